import {
  credentials,
  Metadata,
  status as grpcStatus,
  type Client,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import type { BufferInstruction } from './diff-types.js';
import { dagManagerProto } from './grpc-proto.js';

/** A merged diff as a client sees it (SPEC §2.7). */
export interface DiffReply {
  readonly sentinelId: string;
  readonly queueMap: Record<string, string>;
  readonly topicMap: Record<string, string>;
  readonly bufferNodes: BufferInstruction[];
}

type Unary = (request: unknown, callback: (error: ServiceError | null, reply: unknown) => void) => void;
type AnyClient = Client & Record<string, Unary>;

interface WireChunk {
  queue_map: Record<string, string>;
  topic_map: Record<string, string>;
  sentinel_id: string;
  chunk_id: number;
  total_chunks: number;
  buffer_nodes: {
    node_id: string;
    node_type: string;
    code_hash: string;
    schema_hash: string;
    interval: number;
    period: number;
    tags: string[];
    lag: number;
  }[];
}

/**
 * A gRPC client of the DAG Manager: diffs are read chunk by chunk, each chunk acknowledged, and a
 * stream that breaks mid-way is resumed after the last acknowledged chunk (up to `resumes` times).
 * Errors become QmtlErrors with the server's `qmtl-code` when it sent one.
 *
 * @example
 * const client = new DagManagerClient('127.0.0.1:50051');
 * const { queueMap } = await client.diff('s1', dagJson);
 */
export class DagManagerClient {
  private readonly diffs: AnyClient;
  private readonly tags: AnyClient;
  private readonly admin: AnyClient;
  private readonly health: AnyClient;

  constructor(
    readonly target: string,
    private readonly options: { deadlineMs?: number; resumes?: number } = {},
  ) {
    const proto = dagManagerProto();
    const make = (ctor: (typeof proto)['DiffService']): AnyClient =>
      new ctor(target, credentials.createInsecure(), {
        'grpc.max_send_message_length': 64 * 1024 * 1024,
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
      }) as unknown as AnyClient;
    this.diffs = make(proto.DiffService);
    this.tags = make(proto.TagQuery);
    this.admin = make(proto.AdminService);
    this.health = make(proto.HealthCheck);
  }

  async diff(strategyId: string, dagJson: string): Promise<DiffReply> {
    const reply: DiffReply = {
      sentinelId: `${strategyId}-sentinel`,
      queueMap: {},
      topicMap: {},
      bufferNodes: [],
    };
    let lastAck = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.readStream(
          { strategy_id: strategyId, dag_json: dagJson, resume_after_chunk: lastAck },
          (chunk) => {
            Object.assign(reply.queueMap, chunk.queue_map);
            Object.assign(reply.topicMap, chunk.topic_map);
            for (const b of chunk.buffer_nodes) {
              reply.bufferNodes.push({
                nodeId: b.node_id,
                nodeType: b.node_type,
                codeHash: b.code_hash,
                schemaHash: b.schema_hash,
                interval: b.interval,
                period: b.period,
                tags: b.tags,
                lag: b.lag,
              });
            }
            (reply as { sentinelId: string }).sentinelId = chunk.sentinel_id;
            lastAck = chunk.chunk_id;
          },
        );
        return reply;
      } catch (error) {
        const retriable = (error as ServiceError).code === grpcStatus.UNAVAILABLE && lastAck > 0;
        if (!retriable || attempt >= (this.options.resumes ?? 3)) throw toQmtlError(error, this.target);
      }
    }
  }

  async getQueues(
    tags: readonly string[],
    interval: number,
    matchMode: 'any' | 'all' = 'any',
  ): Promise<string[]> {
    const reply = (await this.unary(this.tags, 'GetQueues', { tags, interval, match_mode: matchMode })) as {
      queues: string[];
    };
    return reply.queues;
  }

  async queueStats(filter = ''): Promise<Record<string, number>> {
    return ((await this.unary(this.admin, 'GetQueueStats', { filter })) as { sizes: Record<string, number> })
      .sizes;
  }

  async cleanup(strategyId: string): Promise<string[]> {
    return ((await this.unary(this.admin, 'Cleanup', { strategy_id: strategyId })) as { released: string[] })
      .released;
  }

  async redoDiff(
    sentinelId: string,
    dagJson: string,
  ): Promise<{ sentinelId: string; queueMap: Record<string, string>; topicMap: Record<string, string> }> {
    const reply = (await this.unary(this.admin, 'RedoDiff', {
      sentinel_id: sentinelId,
      dag_json: dagJson,
    })) as {
      sentinel_id: string;
      queue_map: Record<string, string>;
      topic_map: Record<string, string>;
    };
    return { sentinelId: reply.sentinel_id, queueMap: reply.queue_map, topicMap: reply.topic_map };
  }

  async status(): Promise<{ neo4j: string; state: string; queue: string }> {
    return (await this.unary(this.health, 'Status', {})) as { neo4j: string; state: string; queue: string };
  }

  close(): void {
    for (const client of [this.diffs, this.tags, this.admin, this.health]) client.close();
  }

  private deadline(): Date {
    return new Date(Date.now() + (this.options.deadlineMs ?? 30_000));
  }

  private unary(client: AnyClient, method: string, request: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      (
        client[method] as unknown as (
          r: unknown,
          m: unknown,
          o: unknown,
          cb: (e: ServiceError | null, v: unknown) => void,
        ) => void
      )(request, new Metadata(), { deadline: this.deadline() }, (error, reply) =>
        error ? reject(toQmtlError(error, this.target)) : resolve(reply),
      );
    });
  }

  private readStream(request: Record<string, unknown>, onChunk: (chunk: WireChunk) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const stream = (
        this.diffs['Diff'] as unknown as (r: unknown, o: unknown) => ClientReadableStream<WireChunk>
      )(request, { deadline: this.deadline() });
      stream.on('data', (chunk: WireChunk) => {
        onChunk(chunk);
        this.diffs['AckChunk']!(
          { sentinel_id: chunk.sentinel_id, chunk_id: chunk.chunk_id },
          () => undefined,
        );
      });
      stream.on('error', reject);
      stream.on('end', resolve);
    });
  }
}

const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  [grpcStatus.INVALID_ARGUMENT]: ErrorCode.InvalidArgument,
  [grpcStatus.NOT_FOUND]: ErrorCode.NotFound,
  [grpcStatus.DEADLINE_EXCEEDED]: ErrorCode.Timeout,
  [grpcStatus.UNAVAILABLE]: ErrorCode.Unavailable,
};

function toQmtlError(error: unknown, target: string): QmtlError {
  if (error instanceof QmtlError) return error;
  const serviceError = error as ServiceError;
  const sent = serviceError.metadata?.get('qmtl-code')[0];
  const code = (typeof sent === 'string' ? sent : CODE_BY_STATUS[serviceError.code]) ?? ErrorCode.Unavailable;
  const details = serviceError.details || serviceError.message;
  const message =
    serviceError.code === grpcStatus.UNAVAILABLE && typeof sent !== 'string'
      ? `DAG Manager at ${quote(target)} is unavailable: ${details}`
      : details;
  return new QmtlError(code as ErrorCode, message, { cause: error });
}
