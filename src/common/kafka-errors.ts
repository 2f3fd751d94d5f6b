/** The fields of a `@platformatic/kafka` error that qmtl reads. */
export interface KafkaErrorLike {
  readonly code?: unknown;
  readonly apiId?: unknown;
  readonly message?: unknown;
  readonly errors?: unknown;
  readonly cause?: unknown;
  readonly canRetry?: unknown;
}

/** Every error in the Kafka client's error tree (`MultipleErrors.errors`, `cause`), the root first. */
export function* kafkaErrorTree(error: unknown, depth = 0): Generator<KafkaErrorLike> {
  if (typeof error !== 'object' || error === null || depth > 8) return;
  const node = error as KafkaErrorLike;
  yield node;
  if (Array.isArray(node.errors)) for (const child of node.errors) yield* kafkaErrorTree(child, depth + 1);
  if (node.cause !== undefined) yield* kafkaErrorTree(node.cause, depth + 1);
}

/** Kafka protocol error names in the tree, e.g. `TOPIC_ALREADY_EXISTS`. */
export function brokerErrorIds(error: unknown): string[] {
  return [...kafkaErrorTree(error)].flatMap((e) => (typeof e.apiId === 'string' ? [e.apiId] : []));
}
