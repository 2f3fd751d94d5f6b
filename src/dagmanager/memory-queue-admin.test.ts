import { MemoryQueueAdmin } from './memory-queue-admin.js';
import { testQueueAdminContract } from './queue-admin.contract.test-kit.js';

testQueueAdminContract('memory', {
  create: () => Promise.resolve(new MemoryQueueAdmin()),
  produce: (admin, topic, count) => {
    (admin as MemoryQueueAdmin).append(topic, count);
    return Promise.resolve();
  },
  prefix: 'mem',
});
