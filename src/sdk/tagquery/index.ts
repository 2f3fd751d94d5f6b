export {
  WebSocketClient,
  WsClientState,
  toWebSocketUrl,
  type EventHandler,
  type EventSubscription,
  type WebSocketClientOptions,
} from './ws-client.js';
export {
  TagQueryManager,
  type QueuesHook,
  type TagQueryEventSource,
  type TagQueryManagerOptions,
  type WsClientFactory,
} from './tag-query-manager.js';
