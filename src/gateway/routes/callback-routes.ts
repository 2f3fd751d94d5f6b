import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { tagListOf } from '../../common/tag-list.js';
import { GatewayEventType, type EventHub } from '../event-hub.js';
import type { QueueWatchHub } from '../queue-watch-hub.js';
import type { SentinelWeights } from '../sentinel-weights.js';
import { isRecord } from '../../common/is-record.js';

/** What the callback route uses. */
export interface CallbackRouteParts {
  readonly events: EventHub;
  readonly watchHub: QueueWatchHub;
  readonly weights: SentinelWeights;
  readonly guard?: onRequestAsyncHookHandler;
}

/**
 * `POST /callbacks/dag-event` (SPEC §2.5): a CloudEvent from the DAG Manager (or a bare
 * `{type|event, data}`). `queue_update` feeds `/queues/watch` and `/ws`; `sentinel_weight` updates
 * the routing table; `gc` is forwarded to `/ws`. Malformed events are 422 naming the field; an
 * unknown type is accepted and ignored (202 `{ok: true, ignored: true}`).
 */
export function registerCallbackRoutes(app: FastifyInstance, parts: CallbackRouteParts): void {
  // onRequest: a request is authenticated before its body is read or validated.
  const guarded = parts.guard === undefined ? {} : { onRequest: parts.guard };
  app.post('/callbacks/dag-event', guarded, async (request, reply) => {
    const { type, data } = eventOf(request.body);
    const applied = await applyDagEvent(parts, type, data);
    return reply.status(202).send(applied ? { ok: true } : { ok: true, ignored: true });
  });
}

/**
 * Applies one DAG Manager event; resolves false for a type it does not know (ignored). A
 * `queue_update` or `gc` is applied before this returns; a `sentinel_weight` once its strategy
 * was looked up (the weights of one sentinel in the order they came).
 * @throws QmtlError `QMTL_INVALID_ARGUMENT` naming the bad field.
 */
export async function applyDagEvent(
  parts: Omit<CallbackRouteParts, 'guard'>,
  type: string,
  data: Record<string, unknown>,
): Promise<boolean> {
  switch (type) {
    case GatewayEventType.QueueUpdate: {
      const update = queueUpdateOf(data);
      parts.watchHub.broadcast(update.tags, update.interval, update.match_mode, update.queues);
      parts.events.publish(GatewayEventType.QueueUpdate, update);
      return true;
    }
    case GatewayEventType.SentinelWeight:
      await parts.weights.update(data['sentinel_id'], data['weight']);
      return true;
    case GatewayEventType.Gc:
      parts.events.publish(GatewayEventType.Gc, {
        id: typeof data['id'] === 'string' ? data['id'] : '',
        queues: stringList(data['queues'], 'queues'),
      });
      return true;
    default:
      return false;
  }
}

function eventOf(body: unknown): { type: string; data: Record<string, unknown> } {
  const event = isRecord(body) ? body : {};
  const type = event['type'] ?? event['event'];
  const data = event['data'];
  const problems: string[] = [];
  if (typeof type !== 'string' || type === '')
    problems.push(`type must be a non-empty string, got ${quote(type)}`);
  if (!isRecord(data)) problems.push(`data must be an object, got ${quote(data)}`);
  if (problems.length > 0)
    throw new QmtlError(ErrorCode.InvalidArgument, `invalid event: ${problems.join('; ')}`);
  return { type: type as string, data: data as Record<string, unknown> };
}

function queueUpdateOf(data: Record<string, unknown>) {
  const rawTags = data['tags'];
  const tags = tagListOf(rawTags) ?? stringList(rawTags, 'tags');
  const interval = Number(data['interval']);
  const rawMode = data['match_mode'] ?? 'any';
  const matchMode: 'any' | 'all' = rawMode === 'all' ? 'all' : 'any';
  const problems: string[] = [];
  if (tags.length === 0) problems.push(`tags must not be empty, got ${quote(rawTags)}`);
  if (!Number.isSafeInteger(interval) || interval <= 0)
    problems.push(`interval must be a positive integer, got ${quote(data['interval'])}`);
  if (rawMode !== 'any' && rawMode !== 'all')
    problems.push(`match_mode must be "any" or "all", got ${quote(rawMode)}`);
  if (problems.length > 0)
    throw new QmtlError(ErrorCode.InvalidArgument, `invalid queue_update: ${problems.join('; ')}`);
  return {
    tags,
    interval,
    queues: stringList(data['queues'] ?? [], 'queues'),
    match_mode: matchMode,
  };
}

function stringList(value: unknown, field: string): string[] {
  if (Array.isArray(value) && value.every((v): v is string => typeof v === 'string')) return value;
  throw new QmtlError(ErrorCode.InvalidArgument, `${field} must be a list of strings, got ${quote(value)}`);
}
