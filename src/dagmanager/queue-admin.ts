import { ErrorCode, QmtlError, quote } from '../common/errors.js';

/** A topic to create: its name and broker config (SPEC §2.9). */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly retentionMs: number;
}

/** What a topic looks like on the broker. */
export interface TopicDescription {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** `retention.ms` as configured, when the broker reports it. */
  readonly retentionMs: number | null;
}

/** A topic as {@link QueueAdmin.createTopics} found it. */
export interface CreatedTopic extends TopicDescription {
  /** True when this call created it. */
  readonly created: boolean;
}

/**
 * The broker's admin side as the DAG Manager uses it. Adapters: in-process (memory) and Kafka;
 * both pass `queue-admin.contract.test-kit.ts`. `createTopic` is one attempt: the retry loop
 * (CREATE → VERIFY → WAIT → BACKOFF) and the circuit breaker wrap it in `TopicCreator`.
 */
export interface QueueAdmin {
  /** Creates the topic; resolves `'exists'` when a topic of that name is already there. */
  createTopic(spec: TopicSpec): Promise<'created' | 'exists'>;
  /**
   * Optional: many topics at once, in as few broker requests as it takes (a diff of a new DAG creates
   * thousands). Creates those of `specs` that do not exist and answers, for every one that exists
   * afterwards, how the broker describes it and whether this call created it. Best effort: a
   * topic it could not create (a bad or colliding name, a broker error) is left out of the
   * answer, for the caller to ensure alone.
   */
  createTopics?(specs: readonly TopicSpec[]): Promise<Map<string, CreatedTopic>>;
  /** The topic as the broker describes it, or null when it does not exist (yet). */
  describeTopic(name: string): Promise<TopicDescription | null>;
  listTopics(): Promise<string[]>;
  /** Messages held per topic (sum over partitions of end − start offsets). */
  topicSizes(names?: readonly string[]): Promise<Map<string, number>>;
  /** Deletes the topic; deleting a missing topic does nothing. */
  deleteTopic(name: string): Promise<void>;
  /** Brokers in the cluster: replication factors are clamped to it. */
  brokerCount(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The broker has a topic whose name takes this one: Kafka refuses names that differ only in
 * `.` versus `_` (they collide in its metrics), and a same-name topic of another shape cannot be
 * used. Retrying cannot help; the DAG Manager gives the node the next, longer name instead.
 */
export class TopicNameTakenError extends QmtlError {
  constructor(
    readonly topic: string,
    detail: string,
  ) {
    super(ErrorCode.QueueCreateFailed, `Topic ${quote(topic)} cannot be created: ${detail}`);
  }
}

/** The name Kafka compares topic names under: `.` and `_` are the same character. */
export function collisionKey(name: string): string {
  return name.replaceAll('.', '_');
}

/**
 * Kafka's topic-name rule, applied by every adapter: 1–249 characters of `[A-Za-z0-9._-]`, not
 * `.` or `..`. Returns the `QMTL_INVALID_ARGUMENT` error for a bad name, or null.
 */
export function topicNameProblem(name: unknown): QmtlError | null {
  if (typeof name === 'string' && /^[A-Za-z0-9._-]{1,249}$/.test(name) && name !== '.' && name !== '..')
    return null;
  return new QmtlError(
    ErrorCode.InvalidArgument,
    `topic name must be 1–249 characters of letters, digits, '.', '_' or '-', got ${quote(name)}`,
  );
}
