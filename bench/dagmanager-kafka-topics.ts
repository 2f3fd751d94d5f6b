/**
 * A diff of a new DAG on a real Kafka broker (`bash .ci/servers.sh start kafka`): its topics
 * created in batches (`TopicCreator.ensureMany`, the DAG Manager's path) against one topic at a
 * time (`TopicCreator.ensure` for each, the earlier path), same run, fresh names for each.
 *   node --import tsx bench/dagmanager-kafka-topics.ts [nodes=1000] [brokers=127.0.0.1:19092]
 */
import { chainDag } from '../src/dagmanager/dag.test-kit.js';
import { DiffService, type TopicEnsurer } from '../src/dagmanager/diff-service.js';
import { KafkaQueueAdmin } from '../src/dagmanager/kafka-queue-admin.js';
import { MemoryNodeRepository } from '../src/dagmanager/memory-node-repository.js';
import { TopicCreator } from '../src/dagmanager/topic-creator.js';

const nodes = Number(process.argv[2] ?? 1000);
const admin = new KafkaQueueAdmin({ brokers: (process.argv[3] ?? '127.0.0.1:19092').split(',') });
const creator = new TopicCreator(admin);
const tag = `bench${Date.now().toString(36)}`;
const paths: Array<[label: string, topics: TopicEnsurer]> = [
  ['batched (ensureMany)', creator],
  ['one topic at a time', { ensure: (spec) => creator.ensure(spec) }],
];
for (const [index, [label, topics]] of paths.entries()) {
  const service = new DiffService({ repo: MemoryNodeRepository.open(), topics });
  const dag = chainDag(nodes, `${tag}-${index}-`);
  for (const node of dag.nodes) node['asset'] = `${tag}${index}`;
  const t0 = performance.now();
  await service.diff({ strategyId: 'bench', dagJson: JSON.stringify(dag) });
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `${nodes}-node new DAG, ${label}: ${seconds.toFixed(1)} s (${Math.round(nodes / seconds)} topics/s)`,
  );
}
for (const topic of (await admin.listTopics()).filter((name) => name.startsWith(tag)))
  await admin.deleteTopic(topic);
await admin.close();
