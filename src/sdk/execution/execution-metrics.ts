import { Counter } from 'prom-client';
import { sdkRegistry } from '../metrics.js';

/**
 * Metrics of the order-execution layer, on the SDK registry.
 * @example executionMetrics.ordersTotal.inc({ outcome: 'accepted' });
 */
export const executionMetrics = {
  /**
   * Order-node output items by outcome: accepted, rejected, invalid (never sent), failed (outcome
   * unknown), late (a bucket older than one already routed: never sent), repeated (plain orders
   * of a recompute of a bucket whose orders were already placed: never sent).
   */
  ordersTotal: new Counter({
    name: 'execution_orders_total',
    help: 'Order node outputs by outcome: accepted, rejected, invalid, failed, late or repeated',
    labelNames: ['outcome'] as const,
    registers: [sdkRegistry],
  }),
  /** Price rows that could not be read as bars and were not forwarded to the broker. */
  invalidBarsTotal: new Counter({
    name: 'execution_invalid_bars_total',
    help: 'Price rows dropped because they are not valid bars',
    registers: [sdkRegistry],
  }),
  /** Fills in a venue's answer that could not be read and were not booked. */
  invalidFillsTotal: new Counter({
    name: 'execution_invalid_fills_total',
    help: 'Venue fills dropped because they are not {price, quantity, fee?, ts?}',
    registers: [sdkRegistry],
  }),
  /** Broker calls that threw: a submission whose outcome is unknown, or a failed bar update. */
  brokerErrorsTotal: new Counter({
    name: 'execution_broker_errors_total',
    help: 'Broker calls that threw (unknown order outcome or failed bar update)',
    registers: [sdkRegistry],
  }),
} as const;
