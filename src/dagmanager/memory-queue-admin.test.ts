import { describe, expect, it } from 'vitest';
import { MemoryQueueAdmin } from './memory-queue-admin.js';
import { TopicNameTakenError, type TopicSpec } from './queue-admin.js';
import { testQueueAdminContract } from './queue-admin.contract.test-kit.js';

testQueueAdminContract('memory', {
  create: () => Promise.resolve(new MemoryQueueAdmin()),
  produce: (admin, topic, count) => {
    (admin as MemoryQueueAdmin).append(topic, count);
    return Promise.resolve();
  },
  prefix: 'mem',
});

describe('MemoryQueueAdmin name collisions', () => {
  const spec = (name: string): TopicSpec => ({ name, partitions: 1, replicationFactor: 1, retentionMs: 1 });

  it('refuses a dotted name whose twin without dots exists, in either order, until the twin is deleted', async () => {
    const admin = new MemoryQueueAdmin();
    await admin.createTopic(spec('a_b_c'));
    await expect(admin.createTopic(spec('a.b_c'))).rejects.toThrow(/collides with existing topic "a_b_c"/);
    await expect(admin.createTopic(spec('a_b.c'))).rejects.toBeInstanceOf(TopicNameTakenError);
    await admin.deleteTopic('a_b_c');
    expect(await admin.createTopic(spec('a.b_c'))).toBe('created');
    await expect(admin.createTopic(spec('a_b.c'))).rejects.toThrow(/collides with existing topic "a.b_c"/);
    await expect(admin.createTopic(spec('a_b_c'))).rejects.toThrow(/collides with existing topic "a.b_c"/);
    expect(await admin.createTopic(spec('a.b_c'))).toBe('exists');
    await admin.deleteTopic('a.b_c');
    expect(await admin.createTopic(spec('a_b_c'))).toBe('created');
    expect(await admin.listTopics()).toEqual(['a_b_c']);
  });

  it('answers a batch create like one create per topic', async () => {
    const admin = new MemoryQueueAdmin();
    await admin.createTopic(spec('x.y'));
    const found = await admin.createTopics([spec('x_y'), spec('x.y'), spec('bad name'), spec('z')]);
    expect([...found].map(([name, topic]) => [name, topic.created])).toEqual([
      ['x.y', false],
      ['z', true],
    ]);
  });
});
