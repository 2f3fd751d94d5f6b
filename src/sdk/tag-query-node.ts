import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import type { IntervalLike } from '../common/interval.js';
import { MatchMode } from '../dag/node-json.js';
import type { NodeJson } from '../dag/node-json.js';
import { Node, type ComputeFn, type Params } from './node.js';
import { rejectUnknownKeys, stringList } from './node-options.js';

/** Options of a {@link TagQueryNode}. */
export interface TagQueryNodeOptions<P extends Params = Params> {
  /** Tags to match against queue tags. */
  readonly queryTags: readonly string[];
  readonly interval: IntervalLike;
  readonly period: number;
  /** `any` (default): a queue matches if it has one of the tags; `all`: if it has every tag. */
  readonly matchMode?: MatchMode;
  readonly computeFn?: ComputeFn<P> | null;
  readonly name?: string;
  readonly params?: P;
}

const TAG_QUERY_KEYS = [
  'queryTags',
  'interval',
  'period',
  'matchMode',
  'computeFn',
  'name',
  'params',
] as const;

/**
 * A node whose upstreams are the queues matching a tag query, resolved at run time (SPEC §3.1,
 * §3.6). Offline it resolves to no queues and stays idle. Inside `computeFn` the view is keyed by
 * queue names.
 */
export class TagQueryNode<P extends Params = Params> extends Node<P> {
  static override readonly nodeType: string = 'TagQueryNode';

  readonly queryTags: readonly string[];
  readonly matchMode: MatchMode;
  #queues: readonly string[] = [];

  constructor(options: TagQueryNodeOptions<P>) {
    const what = `TagQueryNode${typeof options?.name === 'string' ? ` ${quote(options.name)}` : ''}`;
    if (typeof options !== 'object' || options === null) {
      throw new QmtlError(
        ErrorCode.InvalidNode,
        `TagQueryNode options must be an object, got ${quote(options)}`,
      );
    }
    rejectUnknownKeys(options, TAG_QUERY_KEYS, what);
    const queryTags = stringList(options.queryTags, 'queryTags', what);
    if (queryTags.length === 0)
      throw new QmtlError(ErrorCode.InvalidNode, `${what}: queryTags must name at least one tag`);
    const matchMode = options.matchMode ?? MatchMode.Any;
    if (matchMode !== MatchMode.Any && matchMode !== MatchMode.All) {
      throw new QmtlError(
        ErrorCode.InvalidNode,
        `${what}: matchMode must be "any" or "all", got ${quote(matchMode)}`,
      );
    }
    if (options.interval == null) throw new QmtlError(ErrorCode.InvalidNode, `${what}: interval is required`);
    if (options.period == null) throw new QmtlError(ErrorCode.InvalidNode, `${what}: period is required`);
    super({
      name: options.name ?? 'tag_query',
      interval: options.interval,
      period: options.period,
      tags: queryTags,
      computeFn: options.computeFn ?? null,
      ...(options.params !== undefined && { params: options.params }),
    });
    this.queryTags = Object.freeze(queryTags);
    this.matchMode = matchMode;
  }

  /** The queues currently feeding this node (none until resolved). */
  get queues(): readonly string[] {
    return this.#queues;
  }

  /** Replaces the resolved queues; returns which were added and removed. */
  updateQueues(queues: readonly string[]): { added: string[]; removed: string[] } {
    const next = stringList(queues, 'queues', this.label);
    const added = next.filter((q) => !this.#queues.includes(q));
    const removed = this.#queues.filter((q) => !next.includes(q));
    this.#queues = Object.freeze(next);
    return { added, removed };
  }

  override identityConfig(): Record<string, unknown> {
    return {
      interval: this.interval,
      period: this.period,
      params: this.params,
      query_tags: [...this.queryTags].sort(),
      match_mode: this.matchMode,
    };
  }

  override toJSON(): NodeJson {
    return { ...super.toJSON(), query_tags: [...this.queryTags], match_mode: this.matchMode };
  }
}
