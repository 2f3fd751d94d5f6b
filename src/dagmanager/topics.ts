import type { TopicKind } from './node-record.js';
import type { TopicSpec } from './queue-admin.js';

const DAY_MS = 24 * 3600 * 1000;

/** Broker config per topic kind (SPEC §2.9): partitions, replication factor, retention. */
export const TOPIC_CONFIGS: Readonly<
  Record<TopicKind, { partitions: number; replicationFactor: number; retentionMs: number }>
> = {
  raw: { partitions: 3, replicationFactor: 3, retentionMs: 7 * DAY_MS },
  indicator: { partitions: 1, replicationFactor: 2, retentionMs: 30 * DAY_MS },
  trade_exec: { partitions: 1, replicationFactor: 3, retentionMs: 90 * DAY_MS },
  sentinel: { partitions: 1, replicationFactor: 2, retentionMs: 180 * DAY_MS },
};

/**
 * The kind of a node's topic from its type: sources carry raw data, VersionSentinels are
 * sentinels, order/trade/execution nodes are trade_exec, everything else is an indicator.
 */
export function topicKindOf(nodeType: string): TopicKind {
  if (nodeType === 'VersionSentinel') return 'sentinel';
  if (/^(StreamInput|SourceNode|TagQueryNode)$/.test(nodeType) || /Input$|Source$/.test(nodeType))
    return 'raw';
  if (/trade|order|exec/i.test(nodeType)) return 'trade_exec';
  return 'indicator';
}

/** The spec of a topic of `kind`, with the replication factor clamped to the broker count. */
export function topicSpec(name: string, kind: TopicKind, brokers: number): TopicSpec {
  const config = TOPIC_CONFIGS[kind];
  return {
    name,
    partitions: config.partitions,
    replicationFactor: Math.max(1, Math.min(config.replicationFactor, brokers)),
    retentionMs: config.retentionMs,
  };
}

/** What a topic name is made of (SPEC §2.9). */
export interface TopicNameParts {
  /** Asset prefix, e.g. `'btc'`; `'asset'` when the node names none. */
  readonly asset: string;
  readonly nodeType: string;
  readonly codeHash: string;
  /** The node's id: what the hash part grows with after the code hash's first characters. */
  readonly nodeId: string;
  /** 1 for `_v1`, … */
  readonly version: number;
  /** Dry-run topics end in `_sim`. */
  readonly dryRun?: boolean;
}

/** The shortest hash prefix a topic name uses; it grows by 2 on a collision. */
export const TOPIC_HASH_PREFIX = 6;

/**
 * `{asset}_{node_type}_{hash[:hashLength]}_v{version}` (+`_sim`), where the hash part is the code
 * hash's first {@link TOPIC_HASH_PREFIX} characters followed by the node id. Characters Kafka does
 * not allow in topic names become `-`. A name taken by a *different* node is retried with
 * `hashLength + 2` (the caller reuses a node's own topic and never asks again). Growing with the
 * node id, not further into the code hash, keeps nodes that share their code (the same indicator
 * with other parameters) apart however many there are: two node ids always differ.
 *
 * @example topicName({ asset: 'btc', nodeType: 'EMA', codeHash: 'abcdef12…', version: 1 }) // 'btc_EMA_abcdef_v1'
 */
export function topicName(parts: TopicNameParts, hashLength = TOPIC_HASH_PREFIX): string {
  const suffix = `_v${parts.version}${parts.dryRun === true ? '_sim' : ''}`;
  const hash = parts.codeHash.slice(0, TOPIC_HASH_PREFIX) + parts.nodeId;
  return `${safe(parts.asset)}_${safe(parts.nodeType)}_${hash.slice(0, hashLength)}${suffix}`;
}

/** `s` with the characters Kafka does not allow in topic names replaced by `-`. */
function safe(s: string): string {
  return UNSAFE.test(s) ? s.replace(UNSAFE_ALL, '-') : s;
}

const UNSAFE = /[^A-Za-z0-9._-]/;
const UNSAFE_ALL = /[^A-Za-z0-9._-]/g;
