export {
  OrderSide,
  OrderType,
  validateOrder,
  validateIntent,
  orderProblems,
  isTargetPosition,
  type OrderRequest,
  type TargetPosition,
  type OrderIntent,
} from './order.js';
export {
  toBar,
  type Bar,
  type Broker,
  type ExecutionReport,
  type Fill,
  type OrderAck,
  type OrderContext,
  type OrderRecord,
  type OrderStatus,
  type Position,
} from './broker.js';
export { Ledger, type LedgerSnapshot } from './ledger.js';
export { PaperBroker, FillAt, type PaperBrokerOptions } from './paper-broker.js';
export { HttpBroker, type HttpBrokerOptions } from './http-broker.js';
export { OrderRouter, type OrderSource, type RouterStats, type RoutingSummary } from './order-router.js';
export {
  TradeOrderNode,
  tradeOrders,
  signalOrders,
  type OrderOutput,
  type SignalOrderParams,
  type SignalOrdersOptions,
  type TradeOrdersOptions,
} from './trade-order-node.js';
export { executionMetrics } from './execution-metrics.js';
