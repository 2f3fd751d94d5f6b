/** The CloudEvent types the Gateway pushes to `/ws` clients (SPEC §2.6). */
export const GatewayEventType = {
  Progress: 'progress',
  QueueMap: 'queue_map',
  QueueUpdate: 'queue_update',
  SentinelWeight: 'sentinel_weight',
  TagQueryUpsert: 'tagquery.upsert',
  Gc: 'gc',
} as const;

/** One of the values of {@link GatewayEventType}. */
export type GatewayEventType = (typeof GatewayEventType)[keyof typeof GatewayEventType];

/** Data of each event type, snake_case as on the wire. */
export interface GatewayEventData {
  progress: { strategy_id: string; status: string };
  queue_map: { strategy_id: string; queue_map: Record<string, string | readonly string[]> };
  queue_update: { tags: string[]; interval: number; queues: string[]; match_mode: 'any' | 'all' };
  sentinel_weight: { sentinel_id: string; weight: number };
  'tagquery.upsert': { tags: string[]; interval: number; queues: string[] };
  gc: { id: string; queues: string[] };
}

/** Where the Gateway sends events for its WebSocket clients. */
export interface EventHub {
  /** Wraps `data` in a CloudEvent (`source: qmtl.gateway`) and sends it to every interested client. */
  publish<T extends GatewayEventType>(type: T, data: GatewayEventData[T]): void;
}

/** An {@link EventHub} that drops every event (no WebSocket server). */
export const silentEventHub: EventHub = { publish: () => undefined };
