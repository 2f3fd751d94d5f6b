import type { BufferInstruction, DiffOutcome } from './diff-types.js';

/** One message of the Diff stream, in TypeScript form (snake_case on the wire). */
export interface DiffChunkData {
  readonly sentinelId: string;
  /** 1-based. */
  readonly chunkId: number;
  readonly totalChunks: number;
  readonly queueMap: Readonly<Record<string, string>>;
  readonly topicMap: Readonly<Record<string, string>>;
  readonly bufferNodes: readonly BufferInstruction[];
}

/** Limits of one chunk (SPEC §2.7): at most 100 nodes and 1 MiB. */
export interface ChunkLimits {
  readonly maxNodes: number;
  readonly maxBytes: number;
}

export const DEFAULT_CHUNK_LIMITS: ChunkLimits = { maxNodes: 100, maxBytes: 1024 * 1024 };

/**
 * Splits a diff outcome into stream chunks: each node (its queue_map entry, its topic_map entry
 * when produced, its buffer instruction) goes into exactly one chunk, in topological order; a
 * chunk holds at most `maxNodes` nodes and at most `maxBytes` of estimated encoded size. An
 * empty DAG gives one empty chunk, so the client always learns the sentinel id.
 */
export function toChunks(outcome: DiffOutcome, limits: ChunkLimits = DEFAULT_CHUNK_LIMITS): DiffChunkData[] {
  const buffers = new Map(outcome.bufferNodes.map((b) => [b.nodeId, b]));
  const groups: { ids: string[]; bytes: number }[] = [];
  let current = { ids: [] as string[], bytes: 0 };
  for (const [nodeId, topic] of outcome.queueMap) {
    const produced = outcome.topicMap.has(nodeId);
    const buffer = buffers.get(nodeId);
    // Entry overhead: map entry framing (~8 bytes) per map plus the strings; tags and hashes of buffers.
    const bytes =
      16 +
      nodeId.length +
      topic.length +
      (produced ? 16 + nodeId.length + topic.length : 0) +
      bufferBytes(buffer);
    if (
      current.ids.length >= limits.maxNodes ||
      (current.ids.length > 0 && current.bytes + bytes > limits.maxBytes)
    ) {
      groups.push(current);
      current = { ids: [], bytes: 0 };
    }
    current.ids.push(nodeId);
    current.bytes += bytes;
  }
  if (current.ids.length > 0 || groups.length === 0) groups.push(current);
  return groups.map((group, index) => ({
    sentinelId: outcome.sentinelId,
    chunkId: index + 1,
    totalChunks: groups.length,
    queueMap: Object.fromEntries(group.ids.map((id) => [id, outcome.queueMap.get(id)!])),
    topicMap: Object.fromEntries(
      group.ids.filter((id) => outcome.topicMap.has(id)).map((id) => [id, outcome.topicMap.get(id)!]),
    ),
    bufferNodes: group.ids.flatMap((id) => (buffers.has(id) ? [buffers.get(id)!] : [])),
  }));
}

function bufferBytes(buffer: BufferInstruction | undefined): number {
  if (buffer === undefined) return 0;
  const strings = [buffer.nodeId, buffer.nodeType, buffer.codeHash, buffer.schemaHash, ...buffer.tags];
  return 40 + strings.reduce((sum, s) => sum + Buffer.byteLength(s) + 3, 0);
}
