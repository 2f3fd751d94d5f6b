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

// Type aliases, not interfaces: event data must stay assignable to Record<string, unknown>.

/** A `queue_update` from the DAG Manager: the topics a tag query (`tags`, `interval`, `match_mode`) matches now. */
export type TagQueueUpdate = {
  readonly tags: string[];
  readonly interval: number;
  readonly queues: string[];
  readonly match_mode: 'any' | 'all';
  readonly reason?: undefined;
};

/**
 * The `queue_update` the Gateway sends when a stopped strategy releases the nodes it produced:
 * consumers of `node_ids` may claim them (`POST /strategies/{id}/claim`). The tag-query fields are
 * empty so clients that only know {@link TagQueueUpdate} match nothing.
 */
export type ProducerReleasedUpdate = {
  readonly reason: 'producer_released';
  /** The strategy that stopped producing. */
  readonly strategy_id: string;
  readonly node_ids: string[];
  readonly tags: [];
  readonly interval: 0;
  readonly queues: [];
  readonly match_mode?: undefined;
};

/** Data of each event type, snake_case as on the wire. */
export interface GatewayEventData {
  progress: { strategy_id: string; status: string };
  queue_map: { strategy_id: string; queue_map: Record<string, string | readonly string[]> };
  queue_update: TagQueueUpdate | ProducerReleasedUpdate;
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
