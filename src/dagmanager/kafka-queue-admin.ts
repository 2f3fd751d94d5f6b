import type { Admin } from '@platformatic/kafka';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { brokerErrorIds, kafkaErrorTree } from '../common/kafka-errors.js';
import {
  topicNameProblem,
  TopicNameTakenError,
  type CreatedTopic,
  type QueueAdmin,
  type TopicDescription,
  type TopicSpec,
} from './queue-admin.js';

/** Options of {@link KafkaQueueAdmin}. */
export interface KafkaQueueAdminOptions {
  /** Bootstrap brokers, `host:port` each (e.g. `['127.0.0.1:19092']`). */
  readonly brokers: readonly string[];
  /** Client id the broker logs. Default `'qmtl-dagmanager'`. */
  readonly clientId?: string;
  /** Per-request and connect timeout in ms. Default 5000. */
  readonly timeoutMs?: number;
  /**
   * How long a successful create or delete waits for the broker's metadata to show it, in ms
   * (KRaft acknowledges once the controller committed it; the broker serves it moments later).
   * Default 5000.
   */
  readonly settleTimeoutMs?: number;
}

const SETTLE_POLL_MS = 25;
/** Topics per CreateTopics / Metadata request of {@link KafkaQueueAdmin.createTopics}. */
const CREATE_BATCH = 100;
const TOPIC_RESOURCE = 2; // ConfigResourceTypes.TOPIC
const EARLIEST = -2n; // ListOffsetTimestamps.EARLIEST
const LATEST = -1n; // ListOffsetTimestamps.LATEST

/**
 * The Kafka {@link QueueAdmin} over `@platformatic/kafka` (pure TypeScript; loaded on first use
 * so the embedded mode never imports it). The client's own retries are off: `createTopic` is one
 * attempt, and the retry loop and circuit breaker live in `TopicCreator`.
 *
 * @example
 * const admin = new KafkaQueueAdmin({ brokers: ['127.0.0.1:19092'] });
 * await admin.createTopic({ name: 'btc_EMA_abcdef_v1', partitions: 1, replicationFactor: 1, retentionMs: 86_400_000 });
 */
export class KafkaQueueAdmin implements QueueAdmin {
  private readonly options: KafkaQueueAdminOptions;
  private admin: Promise<Admin> | undefined;
  /** Creates in flight by name: the client merges identical concurrent requests into one. */
  private readonly creating = new Map<string, Promise<'created' | 'exists'>>();

  constructor(options: KafkaQueueAdminOptions) {
    if (options.brokers.length === 0)
      throw new QmtlError(ErrorCode.InvalidConfig, 'KafkaQueueAdmin needs at least one bootstrap broker');
    this.options = options;
  }

  async createTopic(spec: TopicSpec): Promise<'created' | 'exists'> {
    const invalid = topicNameProblem(spec.name);
    if (invalid !== null) throw invalid;
    // The client answers every caller of a merged request with its result, which would report
    // one topic as created N times; joiners of a create in flight see the topic as existing.
    const inFlight = this.creating.get(spec.name);
    if (inFlight !== undefined) return inFlight.then(() => 'exists' as const);
    const creation = this.create(spec).finally(() => this.creating.delete(spec.name));
    this.creating.set(spec.name, creation);
    return creation;
  }

  private async create(spec: TopicSpec): Promise<'created' | 'exists'> {
    const admin = await this.client();
    try {
      await admin.createTopics({
        topics: [spec.name],
        partitions: spec.partitions,
        replicas: spec.replicationFactor,
        configs: [{ name: 'retention.ms', value: String(spec.retentionMs) }],
      });
    } catch (error) {
      if (brokerErrorIds(error).includes('TOPIC_ALREADY_EXISTS')) return 'exists';
      const collision = collisionMessage(error);
      if (collision !== null) throw new TopicNameTakenError(spec.name, collision);
      throw this.failure(`creating topic ${quote(spec.name)}`, error, ErrorCode.QueueCreateFailed);
    }
    await this.settle(spec.name, true);
    return 'created';
  }

  /**
   * Creates the missing topics of `specs` with one CreateTopics request per 100 topics of one
   * shape (one request per topic managed ~30 topics/s on the test broker; batches, ~1,600/s),
   * then waits until every topic created has partition leaders and describes them all from one
   * metadata read per round. Errors of a batch are not thrown: its topics that do not exist
   * afterwards are left out of the answer.
   */
  async createTopics(specs: readonly TopicSpec[]): Promise<Map<string, CreatedTopic>> {
    const admin = await this.client();
    const wanted = specs.filter((spec) => topicNameProblem(spec.name) === null);
    const before = new Set(await this.listTopics());
    const missing = wanted.filter((spec) => !before.has(spec.name));
    const shapes = new Map<string, TopicSpec[]>();
    for (const spec of missing) {
      const shape = `${spec.partitions}/${spec.replicationFactor}/${spec.retentionMs}`;
      const group = shapes.get(shape);
      if (group === undefined) shapes.set(shape, [spec]);
      else group.push(spec);
    }
    const created = new Set<string>();
    for (const group of shapes.values()) {
      for (let i = 0; i < group.length; i += CREATE_BATCH) {
        const batch = group.slice(i, i + CREATE_BATCH);
        const [{ partitions, replicationFactor, retentionMs }] = batch as [TopicSpec];
        const names = batch.map((spec) => spec.name);
        await admin
          .createTopics({
            topics: names,
            partitions,
            replicas: replicationFactor,
            configs: [{ name: 'retention.ms', value: String(retentionMs) }],
          })
          .then(
            () => names.forEach((name) => created.add(name)),
            // Some topics failed: the answer still says which were created.
            (error: unknown) => createdInFailedBatch(error, names).forEach((name) => created.add(name)),
          );
      }
    }
    return this.describeSettled(wanted, before, created);
  }

  /**
   * The topics of `specs` that exist with partition leaders, polled until every one of `created`
   * does (new topics take a moment to get leaders and to show in listings) or time is up.
   */
  private async describeSettled(
    specs: readonly TopicSpec[],
    before: ReadonlySet<string>,
    created: ReadonlySet<string>,
  ): Promise<Map<string, CreatedTopic>> {
    const admin = await this.client();
    const found = new Map<string, CreatedTopic>();
    const deadline = Date.now() + (this.options.settleTimeoutMs ?? 5000);
    for (;;) {
      const existing = new Set(await this.listTopics());
      const pending = specs.filter((spec) => existing.has(spec.name) && !found.has(spec.name));
      for (let i = 0; i < pending.length; i += CREATE_BATCH) {
        const names = pending.slice(i, i + CREATE_BATCH).map((spec) => spec.name);
        const metadata = await admin
          .metadata({ topics: names, forceUpdate: true, autocreateTopics: false })
          .catch(() => null); // a topic deleted meanwhile: the next round reads the others
        for (const name of names) {
          const partitions = metadata?.topics.get(name)?.partitions ?? [];
          if (partitions.length === 0 || !partitions.every((p) => p.leader >= 0)) continue;
          found.set(name, {
            name,
            partitions: partitions.length,
            replicationFactor: partitions[0]?.replicas.length ?? 0,
            retentionMs: null,
            created: !before.has(name),
          });
        }
      }
      const settled = specs.every(
        (spec) => found.has(spec.name) || (!existing.has(spec.name) && !created.has(spec.name)),
      );
      if (settled || Date.now() >= deadline) return found;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    }
  }

  async describeTopic(name: string): Promise<TopicDescription | null> {
    const admin = await this.client();
    const action = `describing topic ${quote(name)}`;
    let partitions: { replicas: number[] }[];
    try {
      const metadata = await admin.metadata({ topics: [name], forceUpdate: true, autocreateTopics: false });
      partitions = metadata.topics.get(name)?.partitions ?? [];
    } catch (error) {
      if (isUnknownTopic(error)) return null;
      throw this.failure(action, error);
    }
    let retention: string | null | undefined;
    try {
      const [config] = await admin.describeConfigs({
        resources: [
          { resourceType: TOPIC_RESOURCE, resourceName: name, configurationKeys: ['retention.ms'] },
        ],
      });
      retention = config?.configs.find((c) => c.name === 'retention.ms')?.value;
    } catch (error) {
      if (isUnknownTopic(error)) return null; // deleted between the two requests
      throw this.failure(action, error);
    }
    return {
      name,
      partitions: partitions.length,
      replicationFactor: partitions[0]?.replicas.length ?? 0,
      retentionMs: retention === null || retention === undefined ? null : Number(retention),
    };
  }

  async listTopics(): Promise<string[]> {
    const admin = await this.client();
    try {
      return (await admin.listTopics({ includeInternals: false })).sort();
    } catch (error) {
      throw this.failure('listing topics', error);
    }
  }

  /**
   * Messages held per topic (all topics, or those of `names` that exist). A topic deleted between
   * the listing and the offset reads (GC runs meanwhile) fails the read: it is listed again, so
   * the answer leaves that topic out instead of failing (three attempts).
   */
  async topicSizes(names?: readonly string[]): Promise<Map<string, number>> {
    for (let attempt = 1; ; attempt += 1) {
      const existing = await this.listTopics();
      const wanted = names === undefined ? existing : existing.filter((name) => names.includes(name));
      if (wanted.length === 0) return new Map();
      try {
        return await this.sizesOf(wanted);
      } catch (error) {
        if (attempt < 3 && isUnknownTopic(error)) continue;
        if (error instanceof QmtlError) throw error;
        throw this.failure(`reading sizes of ${wanted.length} topics`, error);
      }
    }
  }

  private async sizesOf(wanted: readonly string[]): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    const admin = await this.client();
    const metadata = await admin.metadata({
      topics: [...wanted],
      forceUpdate: true,
      autocreateTopics: false,
    });
    const request = (timestamp: bigint) => ({
      topics: wanted.map((name) => ({
        name,
        partitions: (metadata.topics.get(name)?.partitions ?? []).map((_, partitionIndex) => ({
          partitionIndex,
          timestamp,
        })),
      })),
    });
    const [earliest, latest] = await Promise.all([
      admin.listOffsets(request(EARLIEST)),
      admin.listOffsets(request(LATEST)),
    ]);
    for (const topic of latest) {
      let held = 0n;
      const starts = earliest.find((t) => t.name === topic.name)?.partitions ?? [];
      for (const partition of topic.partitions) {
        const start = starts.find((p) => p.partitionIndex === partition.partitionIndex)?.offset ?? 0n;
        held += partition.offset - start;
      }
      sizes.set(topic.name, Number(held));
    }
    return sizes;
  }

  async deleteTopic(name: string): Promise<void> {
    const admin = await this.client();
    try {
      await admin.deleteTopics({ topics: [name] });
    } catch (error) {
      if (isUnknownTopic(error)) return;
      throw this.failure(`deleting topic ${quote(name)}`, error);
    }
    await this.settle(name, false);
  }

  async brokerCount(): Promise<number> {
    const admin = await this.client();
    try {
      const metadata = await admin.metadata({ topics: [], forceUpdate: true });
      return metadata.brokers.size;
    } catch (error) {
      throw this.failure('reading cluster metadata', error);
    }
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    if (admin !== undefined) await (await admin).close();
  }

  private client(): Promise<Admin> {
    this.admin ??= import('@platformatic/kafka').then(({ Admin: AdminClient }) => {
      const timeout = this.options.timeoutMs ?? 5000;
      return new AdminClient({
        clientId: this.options.clientId ?? 'qmtl-dagmanager',
        bootstrapBrokers: [...this.options.brokers],
        retries: 0,
        timeout,
        connectTimeout: timeout,
        requestTimeout: timeout,
        autocreateTopics: false,
      });
    });
    return this.admin;
  }

  /**
   * Waits (bounded) until the broker's metadata shows `name` with a leader for every partition
   * (`present`), or no longer lists it. A send to a partition still without a leader fails, and
   * clients that retry a whole batch then duplicate the partitions that succeeded.
   */
  private async settle(name: string, present: boolean): Promise<void> {
    const admin = await this.client();
    const deadline = Date.now() + (this.options.settleTimeoutMs ?? 5000);
    while (Date.now() < deadline) {
      const metadata = await admin
        .metadata({ topics: [name], forceUpdate: true, autocreateTopics: false })
        .catch((error: unknown) => {
          if (isUnknownTopic(error)) return null;
          throw this.failure(`waiting for topic ${quote(name)}`, error);
        });
      const partitions = metadata?.topics.get(name)?.partitions;
      const settled = present
        ? partitions !== undefined && partitions.length > 0 && partitions.every((p) => p.leader >= 0)
        : partitions === undefined;
      if (settled) return;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    }
  }

  private failure(action: string, error: unknown, code: ErrorCode = ErrorCode.Unavailable): QmtlError {
    const where = this.options.brokers.join(',');
    if (isConnectionFailure(error))
      return new QmtlError(ErrorCode.Unavailable, `Kafka at ${where} is unreachable while ${action}`, {
        cause: error,
      });
    const reasons = brokerErrorReasons(error);
    const detail = reasons.length > 0 ? reasons.join('; ') : errorMessage(error);
    // A retriable broker error (NOT_CONTROLLER, REQUEST_TIMED_OUT, …) is an outage, not a refusal.
    return new QmtlError(
      isRetriable(error) ? ErrorCode.Unavailable : code,
      `Kafka at ${where} failed ${action}: ${detail}`,
      {
        cause: error,
      },
    );
  }
}

function brokerErrorReasons(error: unknown): string[] {
  const reasons = [...kafkaErrorTree(error)].flatMap((e) =>
    typeof e.apiId === 'string' ? [`${errorMessage(e)} (${e.apiId})`] : [],
  );
  return [...new Set(reasons)];
}

/** The topics of a CreateTopics request that failed for others, as its answer lists them. */
function createdInFailedBatch(error: unknown, names: readonly string[]): string[] {
  for (const e of kafkaErrorTree(error)) {
    const topics = (e as { response?: { topics?: unknown } }).response?.topics;
    if (!Array.isArray(topics)) continue;
    return topics
      .filter((t: { name?: unknown; errorCode?: unknown }) => t.errorCode === 0 && typeof t.name === 'string')
      .map((t: { name: string }) => t.name)
      .filter((name) => names.includes(name));
  }
  return [];
}

/** The broker's "topic 'a_b' collides with existing topic: a.b" message, or null for another error. */
function collisionMessage(error: unknown): string | null {
  for (const e of kafkaErrorTree(error)) {
    const text = (e as { serverErrorMessage?: unknown }).serverErrorMessage;
    if (e.apiId === 'INVALID_TOPIC_EXCEPTION' && typeof text === 'string' && /collides/i.test(text))
      return text;
  }
  return null;
}

function isUnknownTopic(error: unknown): boolean {
  return [...kafkaErrorTree(error)].some(
    (e) =>
      e.apiId === 'UNKNOWN_TOPIC_OR_PARTITION' ||
      e.apiId === 'UNKNOWN_TOPIC_ID' ||
      // The client reports a metadata miss as a UserError without the protocol error.
      (e.code === 'PLT_KFK_USER' && typeof e.message === 'string' && e.message.startsWith('Unknown topic')),
  );
}

/** The client marks each broker error retriable or not; retriable only when none says no. */
function isRetriable(error: unknown): boolean {
  const flags = [...kafkaErrorTree(error)].map((e) => e.canRetry).filter((flag) => typeof flag === 'boolean');
  return flags.length > 0 && flags.every((flag) => flag);
}

function isConnectionFailure(error: unknown): boolean {
  return [...kafkaErrorTree(error)].some((e) => e.code === 'PLT_KFK_NETWORK' || e.code === 'PLT_KFK_TIMEOUT');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
