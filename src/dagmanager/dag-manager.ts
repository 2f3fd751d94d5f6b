import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { MatchMode } from '../dag/node-json.js';
import { DiffService, type DiffListener, type TopicEnsurer } from './diff-service.js';
import type { DiffOutcome } from './diff-types.js';
import type { TagQuery } from './node-record.js';
import type { NodeRepository } from './node-repository.js';
import type { QueueAdmin } from './queue-admin.js';
import { parseQueueStatsFilter } from './queue-stats-filter.js';
import { SentinelWeights, type SentinelWeightsOptions } from './sentinel-weights.js';

/** What a {@link DagManager} is built from. */
export interface DagManagerParts {
  readonly repo: NodeRepository;
  readonly admin: QueueAdmin;
  /** Idempotent topic creation (the TopicCreator over `admin`). */
  readonly topics: TopicEnsurer;
  readonly now?: () => number;
  readonly listener?: DiffListener;
  /**
   * Bounds of the weights held for sentinels no diff wrote yet (`pending_weight_limit`,
   * `pending_weight_ttl`); defaults in {@link SentinelWeights}.
   */
  readonly pendingWeights?: Pick<SentinelWeightsOptions, 'pendingLimit' | 'pendingTtlMs'>;
}

/** Health as `HealthCheck.Status` and `/status` report it. */
export interface DagManagerStatus {
  /** The graph store: `ok` | `error` (named `neo4j` on the wire, as in the original). */
  readonly neo4j: 'ok' | 'error';
  readonly queue: 'ok' | 'error';
  readonly state: 'running';
}

/**
 * The DAG Manager's operations, independent of transport: the gRPC server, the HTTP app, the
 * CLI's dry-run and the Gateway's embedded client all call these.
 */
export class DagManager {
  readonly repo: NodeRepository;
  readonly admin: QueueAdmin;
  readonly diffService: DiffService;
  /** Canary weights of version sentinels (`POST /callbacks/sentinel-traffic`). */
  readonly sentinelWeights: SentinelWeights;
  private readonly now: () => number;

  constructor(parts: DagManagerParts) {
    this.repo = parts.repo;
    this.admin = parts.admin;
    this.now = parts.now ?? Date.now;
    this.diffService = new DiffService({
      repo: parts.repo,
      topics: parts.topics,
      now: this.now,
      ...(parts.listener !== undefined && { listener: parts.listener }),
    });
    this.sentinelWeights = new SentinelWeights({ ...parts.pendingWeights, repo: parts.repo, now: this.now });
  }

  diff(strategyId: string, dagJson: string | object): Promise<DiffOutcome> {
    return this.diffService.diff({ strategyId, dagJson });
  }

  /**
   * Re-runs the diff of the strategy behind `sentinelId` (`{strategy}-sentinel` or a strategy id).
   * @throws QmtlError `QMTL_NOT_FOUND` when there is neither such a sentinel nor such an active
   * strategy: a mistyped id would otherwise become a new strategy, producing nodes that nothing
   * then computes.
   */
  async redoDiff(sentinelId: string, dagJson: string | object): Promise<DiffOutcome> {
    const strategyId = strategyOf(requireText('sentinel_id', sentinelId));
    const [sentinel, roles] = await Promise.all([
      this.repo.getSentinel(`${strategyId}-sentinel`),
      this.repo.strategyRoles(strategyId),
    ]);
    if (sentinel === null && roles.size === 0)
      throw new QmtlError(
        ErrorCode.NotFound,
        `sentinel ${quote(sentinelId)} not found: no sentinel ${quote(`${strategyId}-sentinel`)} and no active strategy ${quote(strategyId)} (redo-diff re-runs a known version; submit a new strategy through the Gateway or \`qmtl dagm diff\`)`,
      );
    return this.diff(strategyId, dagJson);
  }

  /** Topics of nodes matching the query (SPEC §5 tag queries). */
  getQueues(query: { tags: unknown; interval: unknown; matchMode?: unknown }): Promise<string[]> {
    return this.repo.getQueuesByTags(checkTagQuery(query));
  }

  /**
   * Releases a stopped strategy (its id or its sentinel id, which the original's `gc --sentinel`
   * sends): its produced nodes go to the next submitter. Returns them; an unknown or released
   * strategy releases nothing.
   */
  cleanup(strategyId: string): Promise<string[]> {
    return this.repo.releaseStrategy(strategyOf(requireText('strategy_id', strategyId)), this.now());
  }

  /** Messages per topic, optionally filtered by `tag=a,b;interval=60`. */
  async queueStats(filter = ''): Promise<Map<string, number>> {
    const query = parseQueueStatsFilter(filter);
    if (query === null) return this.admin.topicSizes();
    return this.admin.topicSizes(await this.repo.getQueuesByTags(query));
  }

  async status(): Promise<DagManagerStatus> {
    const [neo4j, queue] = await Promise.all([
      this.repo.health(),
      this.admin.brokerCount().then(
        () => 'ok' as const,
        () => 'error' as const,
      ),
    ]);
    return { neo4j, queue, state: 'running' };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.repo.close(), this.admin.close()]);
  }
}

/** The strategy of a sentinel id (`{strategy}-sentinel`), or the id itself. */
function strategyOf(id: string): string {
  return id.replace(/-sentinel$/, '');
}

function requireText(field: string, value: unknown): string {
  if (typeof value === 'string' && value.trim() !== '') return value;
  throw new QmtlError(ErrorCode.InvalidArgument, `${field} must be a non-empty string, got ${quote(value)}`);
}

function checkTagQuery(query: { tags: unknown; interval: unknown; matchMode?: unknown }): TagQuery {
  const problems: string[] = [];
  const { tags, interval } = query;
  const matchMode = query.matchMode === undefined || query.matchMode === '' ? MatchMode.Any : query.matchMode;
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string' || t === ''))
    problems.push(`tags must be a list of non-empty strings, got ${quote(tags)}`);
  if (typeof interval !== 'number' || !Number.isSafeInteger(interval) || interval <= 0)
    problems.push(`interval must be a positive integer number of seconds, got ${quote(interval)}`);
  if (matchMode !== MatchMode.Any && matchMode !== MatchMode.All)
    problems.push(`match_mode must be "any" or "all", got ${quote(matchMode)}`);
  if (problems.length > 0)
    throw new QmtlError(ErrorCode.InvalidArgument, `invalid tag query: ${problems.join('; ')}`);
  return { tags: tags as string[], interval: interval as number, matchMode: matchMode as MatchMode };
}
