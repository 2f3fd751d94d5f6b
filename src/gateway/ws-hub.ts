import type { Socket } from 'node:net';
import { fastifyWebsocket } from '@fastify/websocket';
import type { FastifyInstance, preValidationHookHandler, preValidationAsyncHookHandler } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import { cloudEvent } from '../common/cloud-event.js';
import { quote } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { GatewayEventType, type EventHub, type GatewayEventData } from './event-hub.js';
import { gatewayMetrics } from './metrics.js';
import { isRecord } from '../common/is-record.js';

/** Tuning of a {@link WebSocketHub}. */
export interface WebSocketHubOptions {
  /** A client whose unsent bytes exceed this is dropped with close code 1013. Default 4 MiB. */
  readonly maxBufferedBytes?: number;
  /** Client messages larger than this are answered with an error and ignored. Default 64 KiB. */
  readonly maxMessageBytes?: number;
  /**
   * Hard frame limit (`ws` `maxPayload`) when the hub registers `@fastify/websocket` itself: a
   * larger frame closes the connection with 1009, so a client cannot make the server buffer more.
   * Default 1 MiB.
   */
  readonly maxPayloadBytes?: number;
  /** How long a closing client may take to answer the close frame before it is cut. Default 2 s. */
  readonly closeGraceMs?: number;
  /** Epoch milliseconds for the events' `time`; injectable for tests. */
  readonly now?: () => number;
}

/** Where and behind what the hub's route is mounted. */
export interface WebSocketRouteOptions {
  /** Default `/ws`. */
  readonly path?: string;
  /** Runs before the upgrade, e.g. bearer-JWT auth; a reply sent here refuses the connection. */
  readonly preValidation?: preValidationHookHandler | preValidationAsyncHookHandler;
}

/** What a client asked to receive; an absent field does not filter. */
export interface SubscriptionFilter {
  readonly types?: readonly string[];
  readonly strategy_ids?: readonly string[];
  readonly tags?: readonly string[];
}

/** WebSocket close codes the hub uses (RFC 6455 §7.4.1). */
export const WsCloseCode = {
  GoingAway: 1001,
  TryAgainLater: 1013,
} as const;

interface CompiledFilter {
  readonly types: ReadonlySet<string> | null;
  readonly strategyIds: ReadonlySet<string> | null;
  readonly tags: ReadonlySet<string> | null;
}

interface Client {
  readonly socket: WebSocket;
  /** The TCP socket under `socket`, corked while one tick's events are queued (absent when injected). */
  readonly tcp: Socket | undefined;
  filter: CompiledFilter | null;
  corked: boolean;
}

interface EventFacts {
  readonly type: string;
  readonly strategyId: unknown;
  readonly tags: unknown;
}

const MiB = 1024 * 1024;
const SEND_AS_TEXT = { binary: false } as const;
/** Held (corked) bytes per client after which they are written without waiting for the tick's end. */
const FLUSH_BYTES = 64 * 1024;
const FILTER_FIELDS = ['types', 'strategy_ids', 'tags'] as const;
const KNOWN_TYPES: ReadonlySet<string> = new Set(Object.values(GatewayEventType));

/**
 * Pushes Gateway events to WebSocket clients on `GET /ws` (SPEC §2.5, §2.6). Each event is
 * serialised once as a CloudEvent with a hub-wide `seq` extension attribute and written to every
 * client whose subscription filter accepts it. Sending never waits for a client: one whose unsent
 * bytes pass `maxBufferedBytes` is dropped (close 1013) and counted in
 * `gateway_ws_dropped_clients_total`.
 * @example
 * const hub = new WebSocketHub();
 * await hub.register(app, { preValidation: requireBearer });
 * hub.publish('progress', { strategy_id: 's1', status: 'queued' });
 */
export class WebSocketHub implements EventHub {
  private readonly clients = new Set<Client>();
  private readonly corkedClients: Client[] = [];
  private readonly maxBufferedBytes: number;
  private readonly maxMessageBytes: number;
  private readonly maxPayloadBytes: number;
  private readonly closeGraceMs: number;
  private readonly now: () => number;
  private seq = 0;
  private closed = false;

  constructor(options: WebSocketHubOptions = {}) {
    this.maxBufferedBytes = options.maxBufferedBytes ?? 4 * MiB;
    this.maxMessageBytes = options.maxMessageBytes ?? 64 * 1024;
    this.maxPayloadBytes = options.maxPayloadBytes ?? MiB;
    this.closeGraceMs = options.closeGraceMs ?? 2000;
    this.now = options.now ?? Date.now;
  }

  /** Connected clients. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** The `seq` of the last published event (0 before the first). */
  get lastSeq(): number {
    return this.seq;
  }

  /**
   * Mounts the route on `app`, registering `@fastify/websocket` unless the app already has it. An
   * app that registers the plugin itself should pass `preClose: (done) => { hub.close(); done(); }`
   * to it, or its default pre-close closes the clients before the hub can send them 1001.
   */
  async register(app: FastifyInstance, options: WebSocketRouteOptions = {}): Promise<void> {
    if (!app.hasPlugin('@fastify/websocket')) {
      await app.register(fastifyWebsocket, {
        options: { maxPayload: this.maxPayloadBytes },
        preClose: (done) => {
          this.close();
          app.websocketServer.close();
          done();
        },
      });
    }
    app.addHook('preClose', (done) => {
      this.close();
      done();
    });
    app.route({
      method: 'GET',
      url: options.path ?? '/ws',
      websocket: true,
      ...(options.preValidation === undefined ? {} : { preValidation: options.preValidation }),
      handler: (socket, request) => this.accept(socket, request.raw.socket),
    });
  }

  /** Serialises the event once and queues it on every interested client; never waits. */
  publish<T extends GatewayEventType>(type: T, data: GatewayEventData[T]): void {
    const seq = ++this.seq;
    if (this.clients.size === 0) return;
    const payload = Buffer.from(
      JSON.stringify({ ...cloudEvent('qmtl.gateway', type, data, this.now()), seq }),
    );
    const fields = data as Readonly<Record<string, unknown>>;
    const facts: EventFacts = { type, strategyId: fields['strategy_id'], tags: fields['tags'] };
    for (const client of this.clients) {
      if (client.filter === null || accepts(client.filter, facts)) this.deliver(client, payload);
    }
  }

  /** Closes every client with 1001 and refuses new ones. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const client of this.clients) {
      this.remove(client);
      this.closeClient(client, WsCloseCode.GoingAway, 'server shutting down');
    }
  }

  private accept(socket: WebSocket, tcp: Socket | undefined): void {
    if (this.closed) {
      socket.close(WsCloseCode.GoingAway, 'server shutting down');
      return;
    }
    const client: Client = { socket, tcp, filter: null, corked: false };
    this.clients.add(client);
    gatewayMetrics.wsClients.inc();
    // Attached before any await (there is none): a message arriving first would be lost (ws#1322).
    socket.on('message', (data, isBinary) => this.onClientMessage(client, data, isBinary));
    socket.on('close', () => this.remove(client));
  }

  private onClientMessage(client: Client, data: RawData, isBinary: boolean): void {
    const bytes = Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.isBuffer(data)
        ? data
        : Buffer.from(data);
    let reply: object;
    if (bytes.length > this.maxMessageBytes) {
      reply = errorReply(`message of ${bytes.length} bytes ignored: the limit is ${this.maxMessageBytes}`);
    } else if (isBinary) {
      reply = errorReply('binary frames are not accepted; send JSON text');
    } else {
      const parsed = parseClientMessage(bytes.toString('utf8'));
      if ('problems' in parsed) reply = errorReply(parsed.problems.join('; '));
      else {
        client.filter = compileFilter(parsed.filter);
        reply = { type: 'subscribed', filter: parsed.filter };
      }
    }
    this.deliver(client, Buffer.from(JSON.stringify(reply)));
  }

  private deliver(client: Client, payload: Buffer): void {
    const { socket } = client;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > this.maxBufferedBytes) {
      this.drop(client);
      return;
    }
    this.cork(client);
    socket.send(payload, SEND_AS_TEXT);
  }

  /**
   * Holds a client's writes until the current tick ends, so a burst of events leaves in a few
   * `writev` calls per client instead of one system call per event per client (about 2× the delivered
   * rate in `bench/gateway-ws-fanout.ts`). Past {@link FLUSH_BYTES} held bytes are written at once,
   * so a long burst goes to the kernel as it grows instead of piling up against `maxBufferedBytes`.
   */
  private cork(client: Client): void {
    const { tcp } = client;
    if (tcp === undefined) return;
    if (client.corked) {
      if (tcp.writableLength < FLUSH_BYTES) return;
      tcp.uncork();
      tcp.cork();
      return;
    }
    tcp.cork();
    client.corked = true;
    this.corkedClients.push(client);
    if (this.corkedClients.length === 1) process.nextTick(this.uncorkAll);
  }

  private readonly uncorkAll = (): void => {
    for (const client of this.corkedClients) {
      client.corked = false;
      client.tcp?.uncork();
    }
    this.corkedClients.length = 0;
  };

  private drop(client: Client): void {
    const bufferedBytes = client.socket.bufferedAmount;
    this.remove(client);
    gatewayMetrics.wsDroppedClientsTotal.inc();
    logger.warn(
      { bufferedBytes, maxBufferedBytes: this.maxBufferedBytes },
      'dropping a WebSocket client that cannot keep up',
    );
    this.closeClient(client, WsCloseCode.TryAgainLater, 'too slow; reconnect');
  }

  private closeClient(client: Client, code: number, reason: string): void {
    const { socket } = client;
    socket.close(code, reason);
    // A client that does not read will never answer the close frame; do not keep its buffer for
    // ws's 30 s close timeout.
    const cut = setTimeout(() => socket.terminate(), this.closeGraceMs);
    cut.unref();
    socket.once('close', () => clearTimeout(cut));
  }

  private remove(client: Client): void {
    if (this.clients.delete(client)) gatewayMetrics.wsClients.dec();
  }
}

function errorReply(message: string): { type: 'error'; message: string } {
  return { type: 'error', message };
}

function accepts(filter: CompiledFilter, event: EventFacts): boolean {
  if (filter.types !== null && !filter.types.has(event.type)) return false;
  if (filter.strategyIds !== null && typeof event.strategyId === 'string') {
    if (!filter.strategyIds.has(event.strategyId)) return false;
  }
  if (filter.tags !== null && Array.isArray(event.tags)) {
    const wanted = filter.tags;
    if (!event.tags.some((tag) => typeof tag === 'string' && wanted.has(tag))) return false;
  }
  return true;
}

function compileFilter(filter: SubscriptionFilter): CompiledFilter {
  const set = (values: readonly string[] | undefined): ReadonlySet<string> | null =>
    values === undefined ? null : new Set(values);
  return { types: set(filter.types), strategyIds: set(filter.strategy_ids), tags: set(filter.tags) };
}

/**
 * Reads a client message: `{"subscribe": {"types"?, "strategy_ids"?, "tags"?}}` with string lists.
 * Reports every problem at once.
 */
export function parseClientMessage(text: string): { filter: SubscriptionFilter } | { problems: string[] } {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch (error) {
    return { problems: [`message is not JSON (${(error as Error).message})`] };
  }
  if (!isRecord(message) || !('subscribe' in message)) {
    return {
      problems: [
        `expected {"subscribe": {"types"?: string[], "strategy_ids"?: string[], "tags"?: string[]}}; got ${quote(message)}`,
      ],
    };
  }
  const problems = Object.keys(message)
    .filter((key) => key !== 'subscribe')
    .map((key) => `unknown field ${quote(key)}`);
  const request = message['subscribe'];
  if (!isRecord(request))
    return { problems: [...problems, `"subscribe" must be an object; got ${quote(request)}`] };
  for (const key of Object.keys(request)) {
    if (!(FILTER_FIELDS as readonly string[]).includes(key)) {
      problems.push(`unknown filter field ${quote(key)} (expected ${FILTER_FIELDS.join(', ')})`);
    }
  }
  const filter: { -readonly [K in keyof SubscriptionFilter]: string[] } = {};
  for (const field of FILTER_FIELDS) {
    const values = request[field];
    if (values === undefined) continue;
    if (!Array.isArray(values) || !values.every((value) => typeof value === 'string')) {
      problems.push(`"${field}" must be an array of strings; got ${quote(values)}`);
    } else filter[field] = values;
  }
  for (const type of filter.types ?? []) {
    if (!KNOWN_TYPES.has(type)) {
      problems.push(`unknown event type ${quote(type)} (known: ${[...KNOWN_TYPES].join(', ')})`);
    }
  }
  return problems.length > 0 ? { problems } : { filter };
}
