import { MemoryTopicBus, type MemoryTopicBroker } from './memory-topic-bus.js';
import type { ReceivedMessage } from './topic-bus.js';

/** Every message on a topic of an in-process broker, read from its beginning by a fresh group. */
export async function memoryTopicContents(
  broker: MemoryTopicBroker,
  topic: string,
): Promise<ReceivedMessage[]> {
  const seen: ReceivedMessage[] = [];
  const bus = new MemoryTopicBus({ broker });
  await bus.subscribe({
    topics: [topic],
    group: `check-${Math.random()}`,
    onMessage: (m) => void seen.push(m),
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  await bus.close();
  return seen;
}
