import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { parseInterval } from '../../common/interval.js';
import { logger } from '../../common/logger.js';
import type { DagClient } from '../dag-client.js';
import { ndjsonLine, type MatchMode, type QueueWatchHub } from '../queue-watch-hub.js';

/** What the queue routes use. */
export interface QueueRouteParts {
  readonly dagClient: DagClient;
  readonly watchHub: QueueWatchHub;
  /** Per-route rate limit config (`@fastify/rate-limit`), when enabled. */
  readonly rateLimit?: { max: number; timeWindow: number } | null;
}

interface TagQueryString {
  /** `a,b`, or repeated (`tags=a&tags=b`, as Python's requests sends a list). */
  tags?: string | string[];
  interval?: string;
  match_mode?: string;
  match?: string;
}

/** A parsed `?tags=a,b&interval=60&match_mode=any` query (`match` is the original's alias). */
export interface TagQueryParams {
  readonly tags: string[];
  readonly interval: number;
  readonly matchMode: MatchMode;
}

/** Parses the tag-query string of `/queues/by_tag` and `/queues/watch`, listing every problem. */
export function parseTagQuery(query: TagQueryString): TagQueryParams {
  const problems: string[] = [];
  const tags = [query.tags ?? []]
    .flat()
    .flatMap((list) => list.split(','))
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
  if (tags.length === 0) problems.push(`tags must list at least one tag, got ${quote(query.tags ?? '')}`);
  let interval = 0;
  try {
    const raw = query.interval ?? '';
    interval = parseInterval(/^\d+$/.test(raw) ? Number(raw) : raw);
  } catch (error) {
    problems.push((error as Error).message);
  }
  const matchMode = query.match_mode ?? query.match ?? 'any';
  if (matchMode !== 'any' && matchMode !== 'all')
    problems.push(`match_mode must be "any" or "all", got ${quote(matchMode)}`);
  if (problems.length > 0)
    throw QmtlError.fromProblems(
      'invalid tag query',
      problems.map((message) => ({ code: ErrorCode.InvalidArgument, message })),
    );
  return { tags, interval, matchMode: matchMode as MatchMode };
}

/**
 * `GET /queues/by_tag` → `{queues}` and `GET /queues/watch` → NDJSON `{"queues": [...]}` lines:
 * the current list first, then every change announced by `queue_update` callbacks.
 */
export function registerQueueRoutes(app: FastifyInstance, parts: QueueRouteParts): void {
  const config = parts.rateLimit ? { config: { rateLimit: parts.rateLimit } } : {};

  app.get<{ Querystring: TagQueryString }>('/queues/by_tag', config, async (request) => {
    const query = parseTagQuery(request.query);
    return { queues: await parts.dagClient.getQueues(query.tags, query.interval, query.matchMode) };
  });

  app.get<{ Querystring: TagQueryString }>('/queues/watch', config, async (request, reply) => {
    const query = parseTagQuery(request.query);
    const stream = new PassThrough();
    const first = await parts.dagClient
      .getQueues(query.tags, query.interval, query.matchMode)
      .catch((error: unknown) => {
        logger.warn({ err: error }, 'queue watch: first tag query failed; starting from []');
        return [];
      });
    stream.write(ndjsonLine(first));
    parts.watchHub.broadcast(query.tags, query.interval, query.matchMode, first);
    let last = JSON.stringify([...first].sort());
    const unsubscribe = parts.watchHub.subscribe(query.tags, query.interval, query.matchMode, (queues) => {
      const signature = JSON.stringify([...queues].sort());
      if (signature === last) return;
      last = signature;
      stream.write(ndjsonLine(queues));
    });
    request.raw.on('close', () => {
      unsubscribe();
      stream.end();
    });
    return reply.type('application/x-ndjson').send(stream);
  });
}
