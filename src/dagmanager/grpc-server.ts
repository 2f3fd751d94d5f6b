import {
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { logger } from '../common/logger.js';
import { AckWindow } from './ack-window.js';
import type { DagManager } from './dag-manager.js';
import { toChunks, type ChunkLimits, DEFAULT_CHUNK_LIMITS, type DiffChunkData } from './diff-chunks.js';
import type { DiffOutcome } from './diff-types.js';
import { dagManagerMetrics } from './metrics.js';
import { dagManagerProto } from './grpc-proto.js';
import { toServiceError } from './grpc-errors.js';
import { decodingLeniently, malformedRequestError } from './grpc-malformed.js';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';

/** Largest request (a DAG) the server accepts: 64 MiB. */
export const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

/** Options of {@link startGrpcServer}. */
export interface GrpcServerOptions {
  readonly host?: string;
  /** 0 picks a free port. Default 50051. */
  readonly port?: number;
  /** Un-acknowledged chunks in flight per stream. Default 10. */
  readonly ackWindow?: number;
  /** How long a stream waits for an ack before it ends with DEADLINE_EXCEEDED. Default 30 s. */
  readonly ackTimeoutMs?: number;
  readonly chunkLimits?: ChunkLimits;
}

/** A running gRPC server. */
export interface GrpcServerHandle {
  readonly port: number;
  readonly acks: AckWindow;
  /** Stops accepting calls, lets running ones finish for `graceMs`, then cancels the rest. */
  close(graceMs?: number): Promise<void>;
}

type Unary<Req, Res> = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void;

/** Wraps an async handler: its result or its error (as a clear gRPC status) goes to the callback. */
function unary<Req, Res>(handler: (request: Req) => Promise<Res>): Unary<Req, Res> {
  return (call, callback) => {
    const malformed = malformedRequestError(call.request);
    if (malformed !== null) {
      callback(toServiceError(malformed));
      return;
    }
    handler(call.request).then(
      (result) => callback(null, result),
      (error: unknown) => callback(toServiceError(error)),
    );
  };
}

const recordOf = (map: ReadonlyMap<string, string>): Record<string, string> => Object.fromEntries(map);

/** A chunk as the `DiffChunk` message (snake_case fields of the proto). */
export function chunkMessage(chunk: DiffChunkData): Record<string, unknown> {
  return {
    queue_map: chunk.queueMap,
    sentinel_id: chunk.sentinelId,
    buffer_nodes: chunk.bufferNodes.map((b) => ({
      node_id: b.nodeId,
      node_type: b.nodeType,
      code_hash: b.codeHash,
      schema_hash: b.schemaHash,
      interval: b.interval,
      period: b.period,
      tags: b.tags,
      lag: b.lag,
    })),
    topic_map: chunk.topicMap,
    chunk_id: chunk.chunkId,
    total_chunks: chunk.totalChunks,
  };
}

/**
 * Serves the DAG Manager's gRPC contract (SPEC §2.7) on `host:port`: DiffService (streamed,
 * acknowledged chunks), TagQuery, AdminService and HealthCheck.
 */
export async function startGrpcServer(
  manager: DagManager,
  options: GrpcServerOptions = {},
): Promise<GrpcServerHandle> {
  const proto = dagManagerProto();
  const acks = new AckWindow({
    ...(options.ackWindow !== undefined && { window: options.ackWindow }),
    ...(options.ackTimeoutMs !== undefined && { ackTimeoutMs: options.ackTimeoutMs }),
  });
  const limits = options.chunkLimits ?? DEFAULT_CHUNK_LIMITS;
  // Chunks are ≤ 1 MiB; a request carries a whole DAG, so it may be large (10,000 nodes ≈ 5 MB).
  const server = new Server({
    'grpc.max_send_message_length': 4 * 1024 * 1024,
    'grpc.max_receive_message_length': MAX_REQUEST_BYTES,
  });

  const diff = (call: ServerWritableStream<Record<string, unknown>, unknown>): void => {
    const controller = new AbortController();
    call.on('cancelled', () => controller.abort());
    const malformed = malformedRequestError(call.request);
    if (malformed !== null) failStream(call, malformed);
    else void streamDiff(manager, acks, limits, call, call.request, controller.signal);
  };

  server.addService(decodingLeniently(proto.DiffService.service), {
    Diff: diff,
    AckChunk: unary(async (request: { sentinel_id: string; chunk_id: number }) => {
      acks.ack(request.sentinel_id, request.chunk_id);
      return Promise.resolve({ sentinel_id: request.sentinel_id, chunk_id: request.chunk_id });
    }),
  });
  server.addService(decodingLeniently(proto.TagQuery.service), {
    GetQueues: unary(async (request: { tags: string[]; interval: number; match_mode: string }) => ({
      queues: await manager.getQueues({
        tags: request.tags,
        interval: request.interval,
        matchMode: request.match_mode,
      }),
    })),
  });
  server.addService(decodingLeniently(proto.AdminService.service), {
    Cleanup: unary(async (request: { strategy_id: string }) => ({
      released: await manager.cleanup(request.strategy_id),
    })),
    GetQueueStats: unary(async (request: { filter: string }) => ({
      sizes: Object.fromEntries(await manager.queueStats(request.filter)),
    })),
    RedoDiff: unary(async (request: { sentinel_id: string; dag_json: string }) => {
      const outcome = await manager.redoDiff(request.sentinel_id, request.dag_json);
      return {
        queue_map: recordOf(outcome.queueMap),
        sentinel_id: outcome.sentinelId,
        topic_map: recordOf(outcome.topicMap),
      };
    }),
  });
  server.addService(decodingLeniently(proto.HealthCheck.service), {
    Status: unary(async () => manager.status()),
  });

  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${host}:${options.port ?? 50051}`,
      ServerCredentials.createInsecure(),
      (error, bound) =>
        error
          ? reject(
              new QmtlError(
                ErrorCode.Unavailable,
                `cannot listen on ${host}:${options.port ?? 50051}: ${error.message}`,
              ),
            )
          : resolve(bound),
    );
  });
  logger.info({ host, port }, 'DAG Manager gRPC listening');

  const close = (graceMs = 5_000): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  return { port, acks, close };
}

async function streamDiff(
  manager: DagManager,
  acks: AckWindow,
  limits: ChunkLimits,
  call: ServerWritableStream<Record<string, unknown>, unknown>,
  request: Record<string, unknown>,
  signal: AbortSignal,
): Promise<void> {
  let outcome: DiffOutcome;
  try {
    outcome = await manager.diff(request['strategy_id'] as string, request['dag_json'] as string);
  } catch (error) {
    failStream(call, error);
    return;
  }
  const resumeAfter = Number(request['resume_after_chunk'] ?? 0);
  const chunks = [...toChunks(outcome, limits)];
  if (resumeAfter > chunks.length) {
    failStream(
      call,
      new QmtlError(
        ErrorCode.InvalidArgument,
        `resume_after_chunk ${resumeAfter} is past the last chunk (${chunks.length}) of the diff for ${quote(outcome.sentinelId)}`,
      ),
    );
    return;
  }
  const stream = acks.open(outcome.sentinelId, resumeAfter);
  try {
    for (const chunk of chunks) {
      if (chunk.chunkId <= resumeAfter) continue;
      await stream.beforeSend(chunk.chunkId, signal);
      if (!call.write(chunkMessage(chunk))) await drained(call, signal);
    }
    call.end();
  } catch (error) {
    if (error instanceof QmtlError && error.code === ErrorCode.Timeout && !signal.aborted) {
      dagManagerMetrics.diffChunkAckTimeoutTotal.inc();
    }
    if (!signal.aborted) failStream(call, error);
  } finally {
    stream.close();
  }
}

function drained(
  call: ServerWritableStream<Record<string, unknown>, unknown>,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Ends a server stream with the error's gRPC status (grpc-js sends the status on 'error'). */
function failStream(call: ServerWritableStream<Record<string, unknown>, unknown>, error: unknown): void {
  call.emit('error', toServiceError(error));
}
