import { CircuitBreaker } from '../common/circuit-breaker.js';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { logger as defaultLogger, type Logger } from '../common/logger.js';
import { backoffDelay, sleep as realSleep, type BackoffOptions, type SleepFn } from '../common/retry.js';
import { dagManagerMetrics } from './metrics.js';
import {
  topicNameProblem,
  TopicNameTakenError,
  type QueueAdmin,
  type TopicDescription,
  type TopicSpec,
} from './queue-admin.js';

/** Options of {@link TopicCreator}. */
export interface TopicCreatorOptions {
  /** Tries of CREATE → VERIFY → WAIT before giving up. Default 5 (SPEC §5). */
  readonly maxAttempts?: number;
  /** Delay between tries (exponential, full jitter). Default base 200 ms, cap 5 s. */
  readonly backoff?: BackoffOptions;
  /** How long WAIT polls for the topic to show up in broker metadata, in ms. Default 5000. */
  readonly visibilityTimeoutMs?: number;
  /** Delay between WAIT polls, in ms. Default 100. */
  readonly pollIntervalMs?: number;
  /** Consecutive admin failures that open the breaker. Default 3. */
  readonly failureThreshold?: number;
  /** How long the breaker stays open before a half-open probe, in ms. Default 60 000. */
  readonly resetTimeoutMs?: number;
  /**
   * A breaker to share between creators of one cluster (make it with {@link kafkaAdminBreaker});
   * otherwise each creator makes its own from the options above.
   */
  readonly breaker?: CircuitBreaker;
  /** Clock of the breaker, in ms. Default `Date.now`. */
  readonly now?: () => number;
  /** How BACKOFF and WAIT wait; injectable so tests never really wait. */
  readonly sleep?: SleepFn;
  readonly logger?: Logger;
}

/** What {@link TopicCreator.ensure} resolves to: the topic as the broker describes it. */
export interface EnsuredTopic extends TopicDescription {
  /** True when this call (or the in-flight call it joined) created the topic. */
  readonly created: boolean;
}

/**
 * A topic of the wanted name already exists with a different shape: a name collision (SPEC §2.9),
 * never retried — the caller picks the next, longer name.
 */
export class TopicCollisionError extends TopicNameTakenError {
  readonly existing: TopicDescription;
  readonly wanted: TopicSpec;

  constructor(existing: TopicDescription, wanted: TopicSpec) {
    super(
      wanted.name,
      `it already exists with ${existing.partitions} partitions and ` +
        `replication factor ${existing.replicationFactor}; wanted ${wanted.partitions} and ${wanted.replicationFactor}`,
    );
    this.existing = existing;
    this.wanted = wanted;
  }
}

/**
 * The circuit breaker of a broker's admin API: opens after `failureThreshold` (default 3)
 * consecutive failures for `resetTimeoutMs` (default 60 s) and counts `kafka_breaker_open_total`.
 */
export function kafkaAdminBreaker(
  options: Pick<TopicCreatorOptions, 'failureThreshold' | 'resetTimeoutMs' | 'now'> = {},
): CircuitBreaker {
  return new CircuitBreaker({
    name: 'kafka-admin',
    failureThreshold: options.failureThreshold ?? 3,
    resetTimeoutMs: options.resetTimeoutMs ?? 60_000,
    ...(options.now === undefined ? {} : { now: options.now }),
    onOpen: () => dagManagerMetrics.kafkaBreakerOpenTotal.inc(),
  });
}

/**
 * Idempotent topic creation (SPEC §5) over any {@link QueueAdmin}: up to `maxAttempts` tries of
 * CREATE → VERIFY (the broker describes the topic, with the wanted shape) → WAIT (until it is
 * visible, bounded) → BACKOFF. Concurrent `ensure` calls for one name share one flight; every
 * admin call goes through a circuit breaker that counts `kafka_breaker_open_total` and, while
 * open, makes `ensure` fail fast with `QMTL_UNAVAILABLE`.
 *
 * @example
 * const creator = new TopicCreator(new KafkaQueueAdmin({ brokers: ['127.0.0.1:19092'] }));
 * await creator.ensure(topicSpec('btc_EMA_abcdef_v1', 'indicator', 3));
 */
export class TopicCreator {
  readonly breaker: CircuitBreaker;
  private readonly admin: QueueAdmin;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffOptions;
  private readonly visibilityPolls: number;
  private readonly pollIntervalMs: number;
  private readonly sleep: SleepFn;
  private readonly logger: Logger;
  private readonly inFlight = new Map<string, { spec: TopicSpec; topic: Promise<EnsuredTopic> }>();
  /** Errors that end `ensure` at once: calls the open breaker refused, permanent failures. */
  private readonly fatal = new WeakSet<object>();

  constructor(admin: QueueAdmin, options: TopicCreatorOptions = {}) {
    this.admin = admin;
    this.maxAttempts = options.maxAttempts ?? 5;
    if (!Number.isSafeInteger(this.maxAttempts) || this.maxAttempts < 1)
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `TopicCreator maxAttempts must be a positive integer, got ${quote(this.maxAttempts)}`,
      );
    this.backoff = { baseDelayMs: 200, maxDelayMs: 5000, ...options.backoff };
    this.pollIntervalMs = Math.max(1, options.pollIntervalMs ?? 100);
    this.visibilityPolls = Math.max(
      1,
      Math.ceil((options.visibilityTimeoutMs ?? 5000) / this.pollIntervalMs),
    );
    this.sleep = options.sleep ?? realSleep;
    this.logger = options.logger ?? defaultLogger;
    this.breaker = options.breaker ?? kafkaAdminBreaker(options);
  }

  /** Deletes a topic this DAG Manager created for a diff that then failed (nothing else uses it). */
  remove(name: string): Promise<void> {
    return this.admin.deleteTopic(name);
  }

  /**
   * The fast path for many topics: replication factors clamped once, then the admin's batch
   * create ({@link QueueAdmin.createTopics}). Answers the topics that now exist with the wanted
   * shape; the rest (a bad or colliding name, another shape, a broker error, an admin without a
   * batch create, the breaker open) are left out for {@link ensure}, one by one, which retries,
   * reports and names collisions.
   */
  async ensureMany(specs: readonly TopicSpec[]): Promise<Map<string, EnsuredTopic>> {
    const ensured = new Map<string, EnsuredTopic>();
    const batchCreate = this.admin.createTopics?.bind(this.admin);
    if (batchCreate === undefined || specs.length === 0) return ensured;
    try {
      const brokers = await this.guarded(() => this.admin.brokerCount());
      const wanted = specs.map((spec) => clampedTo(spec, brokers));
      const found = await this.guarded(() => batchCreate(wanted));
      for (const spec of wanted) {
        const topic = found.get(spec.name);
        if (topic?.partitions === spec.partitions && topic.replicationFactor === spec.replicationFactor)
          ensured.set(spec.name, topic);
      }
    } catch (error) {
      this.logger.warn({ topics: specs.length, err: error }, 'topic.create.batch_failed');
    }
    return ensured;
  }

  /**
   * Makes sure the topic exists with the spec's partitions and replication factor (clamped to
   * the broker count) and resolves with its description.
   * @throws QmtlError `QMTL_INVALID_ARGUMENT` for a bad name, {@link TopicCollisionError} for a
   *   same-name topic of another shape, `QMTL_UNAVAILABLE` while the breaker is open, and
   *   `QMTL_QUEUE_CREATE_FAILED` naming the topic and the last cause after the last attempt.
   */
  async ensure(spec: TopicSpec): Promise<EnsuredTopic> {
    const invalid = topicNameProblem(spec.name);
    if (invalid !== null) throw invalid;
    const flight = this.inFlight.get(spec.name);
    if (flight === undefined) {
      const topic = this.create(spec).finally(() => this.inFlight.delete(spec.name));
      this.inFlight.set(spec.name, { spec, topic });
      return topic;
    }
    const topic = await flight.topic;
    // A joiner that asked for another shape than the flight it joined gets a collision.
    if (
      spec.partitions !== flight.spec.partitions ||
      spec.replicationFactor !== flight.spec.replicationFactor
    )
      throw this.collision(topic, spec);
    return topic;
  }

  private async create(requested: TopicSpec): Promise<EnsuredTopic> {
    const name = requested.name;
    let lastError: unknown;
    let spec: TopicSpec | undefined;
    let created = false;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt += 1) {
      try {
        // Once per ensure: a success between failed creates would keep the breaker from opening.
        const wanted = (spec ??= await this.clamped(requested));
        const outcome = await this.guarded(() => this.admin.createTopic(wanted)); // CREATE
        if (outcome === 'created') created = true;
        const topic = await this.visible(name); // VERIFY, then WAIT
        if (topic.partitions !== wanted.partitions || topic.replicationFactor !== wanted.replicationFactor)
          throw this.collision(topic, wanted);
        return { ...topic, created };
      } catch (error) {
        if (error instanceof TopicNameTakenError || this.fatal.has(error as object)) {
          dagManagerMetrics.queueCreateErrorTotal.inc();
          this.logger.error({ topic: name, attempt, err: error }, 'topic.create.failed');
          throw error;
        }
        lastError = error;
        if (attempt === this.maxAttempts) break;
        const delayMs = backoffDelay(attempt, this.backoff); // BACKOFF
        this.logger.warn({ topic: name, attempt, delayMs, err: error }, 'topic.create.retry');
        await this.sleep(delayMs);
      }
    }
    dagManagerMetrics.queueCreateErrorTotal.inc();
    const cause = lastError instanceof Error ? lastError.message : String(lastError);
    this.logger.error({ topic: name, err: lastError }, 'topic.create.failed');
    throw new QmtlError(
      ErrorCode.QueueCreateFailed,
      `Could not create topic ${quote(name)} after ${this.maxAttempts} attempts: ${cause}`,
      { cause: lastError },
    );
  }

  /** The spec with its replication factor clamped to the brokers there are (SPEC §2.9). */
  private async clamped(spec: TopicSpec): Promise<TopicSpec> {
    return clampedTo(spec, await this.guarded(() => this.admin.brokerCount()));
  }

  /** Polls the broker's description of `name` until it is there, at most `visibilityPolls` times. */
  private async visible(name: string): Promise<TopicDescription> {
    for (let poll = 1; ; poll += 1) {
      const topic = await this.guarded(() => this.admin.describeTopic(name));
      if (topic !== null) return topic;
      if (poll >= this.visibilityPolls)
        throw new QmtlError(
          ErrorCode.Timeout,
          `topic ${quote(name)} was not visible in broker metadata after ${poll} checks`,
        );
      await this.sleep(this.pollIntervalMs);
    }
  }

  /**
   * Runs an admin call through the breaker. Only transient failures count against it: a broker
   * that rejects a request (bad config, bad name) is up. Errors of calls the open breaker refused
   * and permanent errors are remembered, so `create` stops at once on them.
   */
  private async guarded<T>(operation: () => Promise<T>): Promise<T> {
    let ran = false;
    let permanent: QmtlError | undefined;
    let result: T | undefined;
    try {
      await this.breaker.call(async () => {
        ran = true;
        try {
          result = await operation();
        } catch (error) {
          if (!isPermanent(error)) throw error;
          permanent = error;
        }
      });
    } catch (error) {
      if (!ran && typeof error === 'object' && error !== null) this.fatal.add(error);
      throw error;
    }
    if (permanent !== undefined) {
      this.fatal.add(permanent);
      throw permanent;
    }
    return result as T;
  }

  private collision(existing: TopicDescription, wanted: TopicSpec): TopicCollisionError {
    this.logger.warn({ topic: wanted.name, existing, wanted }, 'topic.create.collision');
    return new TopicCollisionError(existing, wanted);
  }
}

function clampedTo(spec: TopicSpec, brokers: number): TopicSpec {
  const replicationFactor = Math.max(1, Math.min(spec.replicationFactor, brokers));
  return replicationFactor === spec.replicationFactor ? spec : { ...spec, replicationFactor };
}

/** A failure retrying cannot fix: the broker answered and rejected the request. */
function isPermanent(error: unknown): error is QmtlError {
  return (
    error instanceof QmtlError &&
    (error.code === ErrorCode.InvalidArgument ||
      error.code === ErrorCode.InvalidConfig ||
      error.code === ErrorCode.QueueCreateFailed ||
      error.code === ErrorCode.NotSupported)
  );
}
