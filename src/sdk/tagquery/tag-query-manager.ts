import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import { tagListOf } from '../../common/tag-list.js';
import type { MatchMode } from '../../dag/node-json.js';
import type { TagQueryNode } from '../tag-query-node.js';
import { WebSocketClient, type WebSocketClientOptions } from './ws-client.js';
import { isRecord } from '../../common/is-record.js';

/** What the manager needs of an event stream: started once, closed once. */
export interface TagQueryEventSource {
  start(): void;
  close(): Promise<void>;
}

/** Builds the event stream the manager listens on; the default opens a {@link WebSocketClient}. */
export type WsClientFactory = (gatewayUrl: string, options: WebSocketClientOptions) => TagQueryEventSource;

/** Called with a node and the queues that were added to (or removed from) its upstreams. */
export type QueuesHook = (node: TagQueryNode, queues: readonly string[]) => unknown;

/** Options of a {@link TagQueryManager}. */
export interface TagQueryManagerOptions {
  /** Gateway base URL; absent or null = offline (every node resolves to no queues). */
  readonly gatewayUrl?: string | null;
  /** HTTP client for `GET /queues/by_tag`. Default the global `fetch`. */
  readonly fetch?: typeof fetch;
  readonly wsClient?: WsClientFactory;
  /** Bearer token for the WebSocket and the HTTP calls. */
  readonly token?: string;
  /** Reconnect backoff of the default WebSocket client. */
  readonly backoff?: WebSocketClientOptions['backoff'];
  /** Timeout of one `GET /queues/by_tag`, ms. Default 10,000. */
  readonly requestTimeoutMs?: number;
  /** New upstream queues: the Runner puts the node back into pre-warmup and warms them. */
  readonly onQueuesAdded?: QueuesHook;
  /** Upstream queues gone: the Runner drops their cache buffers. */
  readonly onQueuesRemoved?: QueuesHook;
}

/** Registered nodes sharing one query, with the chain that applies their updates in order. */
interface QueryEntry {
  readonly tags: readonly string[];
  readonly interval: number;
  readonly matchMode: MatchMode;
  readonly nodes: Set<TagQueryNode>;
  chain: Promise<void>;
}

/** A parsed `queue_update` / `tagquery.upsert`; `matchMode` null when the event did not say. */
interface QueueEvent {
  readonly tags: readonly string[];
  readonly interval: number;
  readonly matchMode: MatchMode | null;
  readonly queues: readonly string[];
}

/** Most sentinel weights a {@link TagQueryManager} keeps. */
export const MAX_WEIGHTS = 10_000;

/**
 * Resolves the upstream queues of {@link TagQueryNode}s and keeps them current (SPEC §3.6). Nodes
 * are registered under (sorted tags, interval, match_mode); {@link resolveTags} asks the Gateway's
 * `GET /queues/by_tag` for each query, and {@link start} follows `/ws`:
 *
 * - a `queue_update` / `tagquery.upsert` whose (sorted tags, interval, match_mode) equal a query's
 *   carries that query's full answer, so its queues are applied as they are;
 * - any other such event with the same interval and a tag in common with a query (typically the
 *   DAG Manager announcing, per single tag with `match_mode: any`, every queue with that tag) only
 *   says the query's answer may have changed, so the query is re-resolved with `GET /queues/by_tag`
 *   rather than trusting a list that answers a different question (this covers `all` queries too);
 * - `gc` removes the dropped queues from every node;
 * - `sentinel_weight` is kept in {@link weights};
 * - after every (re)connect every query is re-resolved, since events may have been missed.
 *
 * Updates of one query are applied in arrival order. Added queues go to `onQueuesAdded`, removed
 * ones to `onQueuesRemoved`.
 *
 * @example
 * const manager = new TagQueryManager({ gatewayUrl, onQueuesAdded: (node, q) => runner.warm(node, q) });
 * manager.register(node);
 * await manager.start();
 */
export class TagQueryManager {
  /**
   * `sentinel_id → weight` from `sentinel_weight` events: the {@link MAX_WEIGHTS} updated last,
   * oldest update first.
   */
  readonly weights = new Map<string, number>();
  readonly #entries = new Map<string, QueryEntry>();
  readonly #options: TagQueryManagerOptions;
  readonly #gatewayUrl: string | null;
  #client: TagQueryEventSource | null = null;

  constructor(options: TagQueryManagerOptions = {}) {
    this.#options = options;
    this.#gatewayUrl = options.gatewayUrl == null ? null : options.gatewayUrl.replace(/\/+$/, '');
  }

  /** Registered nodes, in registration order. */
  get nodes(): TagQueryNode[] {
    return [...this.#entries.values()].flatMap((entry) => [...entry.nodes]);
  }

  /** Registers a node under its query key; once started, its queues are resolved right away. */
  register(node: TagQueryNode): void {
    const interval = node.interval;
    if (interval === null) {
      throw new QmtlError(ErrorCode.InvalidNode, `${node.label}: interval is required for a tag query`);
    }
    const tags = [...new Set(node.queryTags)].sort();
    const key = queryKey(tags, interval, node.matchMode);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { tags, interval, matchMode: node.matchMode, nodes: new Set(), chain: Promise.resolve() };
      this.#entries.set(key, entry);
    }
    entry.nodes.add(node);
    if (this.#client !== null) this.#refresh(entry);
  }

  /** Forgets a node; its queues are left as they are. */
  unregister(node: TagQueryNode): void {
    for (const [key, entry] of this.#entries) {
      if (entry.nodes.delete(node) && entry.nodes.size === 0) this.#entries.delete(key);
    }
  }

  /**
   * Resolves every registered query with `GET /queues/by_tag` and applies the answer to its
   * nodes. Offline, or without a Gateway, every node gets no queues.
   * @throws QmtlError `QMTL_UNAVAILABLE` when the Gateway cannot be reached or answers an error.
   */
  async resolveTags(options: { offline?: boolean } = {}): Promise<void> {
    const offline = options.offline === true || this.#gatewayUrl === null;
    const entries = [...this.#entries.values()];
    await Promise.all(
      entries.map((entry) =>
        this.#enqueue(entry, async () => this.#apply(entry, offline ? [] : await this.#query(entry))),
      ),
    );
  }

  /**
   * Resolves every query, then follows the Gateway's `/ws` (no-op offline). Resolves once the
   * first resolution is applied; the WebSocket keeps (re)connecting in the background.
   * @throws QmtlError `QMTL_UNAVAILABLE` when the first resolution fails (the WebSocket is closed).
   */
  async start(): Promise<void> {
    if (this.#client !== null) return;
    if (this.#gatewayUrl === null) {
      await this.resolveTags({ offline: true });
      return;
    }
    const factory = this.#options.wsClient ?? ((url, options) => new WebSocketClient(url, options));
    this.#client = factory(this.#gatewayUrl, {
      onEvent: (type, data) => this.handleEvent(type, data),
      onOpen: () => this.#refreshAll(),
      ...(this.#options.token !== undefined && { token: this.#options.token }),
      ...(this.#options.backoff !== undefined && { backoff: this.#options.backoff }),
    });
    this.#client.start();
    try {
      await this.resolveTags();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Closes the WebSocket and waits for pending updates. Idempotent. */
  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    await client?.close();
    await this.settled();
  }

  /** Resolves once every update queued so far has been applied. */
  async settled(): Promise<void> {
    await Promise.all([...this.#entries.values()].map((entry) => entry.chain));
  }

  /** Applies one Gateway event (the WebSocket client's `onEvent`); unknown types are ignored. */
  handleEvent(type: string, data: unknown): void {
    if (!isRecord(data)) return;
    switch (type) {
      case 'queue_update':
      case 'tagquery.upsert': {
        // A producer stopped (the Runner claims its nodes); no tag query's answer changed.
        if (data['reason'] === 'producer_released') return;
        const event = queueEventOf(type, data);
        if (event === null) logger.warn({ type, data }, 'tag query: malformed queue event ignored');
        else this.#onQueueEvent(event);
        return;
      }
      case 'sentinel_weight': {
        const id = data['sentinel_id'];
        const weight = data['weight'];
        if (typeof id === 'string' && typeof weight === 'number' && Number.isFinite(weight)) {
          // Newest last; past the limit the one updated longest ago goes (a flood of ids through
          // the Gateway must not grow every client without bound).
          this.weights.delete(id);
          this.weights.set(id, weight);
          if (this.weights.size > MAX_WEIGHTS) this.weights.delete(this.weights.keys().next().value!);
        }
        return;
      }
      case 'gc': {
        const dropped = new Set(stringsOf(data['queues']) ?? []);
        if (dropped.size === 0) return;
        for (const entry of this.#entries.values()) {
          this.#background(entry, () => this.#apply(entry, null, dropped));
        }
        return;
      }
      default:
        return;
    }
  }

  #onQueueEvent(event: QueueEvent): void {
    const tags = [...new Set(event.tags)].sort();
    for (const entry of this.#entries.values()) {
      if (entry.interval !== event.interval) continue;
      const exact = event.matchMode === entry.matchMode && sameList(tags, entry.tags);
      if (exact) this.#background(entry, () => this.#apply(entry, event.queues));
      else if (tags.some((tag) => entry.tags.includes(tag))) this.#refresh(entry);
    }
  }

  #refreshAll(): void {
    for (const entry of this.#entries.values()) this.#refresh(entry);
  }

  /** Re-resolves one query in the background; a failure keeps the current queues. */
  #refresh(entry: QueryEntry): void {
    this.#background(entry, async () => this.#apply(entry, await this.#query(entry)));
  }

  /** Queues `task` on the query's chain without waiting; a failure is logged, nothing changes. */
  #background(entry: QueryEntry, task: () => Promise<void>): void {
    this.#enqueue(entry, task).catch((error: unknown) => {
      logger.warn({ err: error, tags: entry.tags, interval: entry.interval }, 'tag query: update failed');
    });
  }

  /** Runs `task` after the query's earlier updates; the returned promise carries its outcome. */
  #enqueue(entry: QueryEntry, task: () => Promise<void>): Promise<void> {
    const run = entry.chain.then(task);
    entry.chain = run.catch(() => undefined);
    return run;
  }

  /** Sets the nodes' queues (`queues`, or theirs minus `dropped`) and calls the hooks. */
  async #apply(
    entry: QueryEntry,
    queues: readonly string[] | null,
    dropped?: ReadonlySet<string>,
  ): Promise<void> {
    for (const node of entry.nodes) {
      const next = queues ?? node.queues.filter((queue) => !dropped?.has(queue));
      const { added, removed } = node.updateQueues([...new Set(next)]);
      if (removed.length > 0) await this.#hook('onQueuesRemoved', node, removed);
      if (added.length > 0) await this.#hook('onQueuesAdded', node, added);
    }
  }

  async #hook(
    name: 'onQueuesAdded' | 'onQueuesRemoved',
    node: TagQueryNode,
    queues: string[],
  ): Promise<void> {
    try {
      await this.#options[name]?.(node, queues);
    } catch (error) {
      logger.error({ err: error, node: node.label, queues }, `tag query: ${name} failed`);
    }
  }

  async #query(entry: QueryEntry): Promise<string[]> {
    const params = new URLSearchParams({
      tags: entry.tags.join(','),
      interval: String(entry.interval),
      match_mode: entry.matchMode,
    });
    const url = `${this.#gatewayUrl ?? ''}/queues/by_tag?${params.toString()}`;
    const headers: Record<string, string> =
      this.#options.token === undefined ? {} : { authorization: `Bearer ${this.#options.token}` };
    const fetchFn = this.#options.fetch ?? fetch;
    let response: Response;
    try {
      response = await fetchFn(url, {
        headers,
        signal: AbortSignal.timeout(this.#options.requestTimeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new QmtlError(ErrorCode.Unavailable, `gateway unreachable at ${quote(url)}`, { cause: error });
    }
    if (!response.ok) {
      throw new QmtlError(
        ErrorCode.Unavailable,
        `GET ${quote(url)} answered ${response.status}: ${(await response.text()).slice(0, 200)}`,
      );
    }
    const body: unknown = await response.json();
    const queues = isRecord(body) ? stringsOf(body['queues'] ?? []) : null;
    if (queues === null) {
      throw new QmtlError(
        ErrorCode.Unavailable,
        `GET ${quote(url)} answered ${quote(body)}, not {queues: [...]}`,
      );
    }
    return queues;
  }
}

function queryKey(tags: readonly string[], interval: number, matchMode: MatchMode): string {
  return JSON.stringify([tags, interval, matchMode]);
}

/** Reads a queue event: tags as a list or a comma string, interval coerced to an integer. */
function queueEventOf(type: string, data: Record<string, unknown>): QueueEvent | null {
  const rawTags = data['tags'];
  const tags = tagListOf(rawTags);
  const interval = Number(data['interval']);
  const queues = stringsOf(data['queues'] ?? []);
  const rawMode = data['match_mode'] ?? (type === 'queue_update' ? 'any' : null);
  if (tags === null || tags.length === 0 || !Number.isSafeInteger(interval) || queues === null) return null;
  if (rawMode !== null && rawMode !== 'any' && rawMode !== 'all') return null;
  return { tags, interval, queues, matchMode: rawMode };
}

function stringsOf(value: unknown): string[] | null {
  return Array.isArray(value) && value.every((v): v is string => typeof v === 'string') ? value : null;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
