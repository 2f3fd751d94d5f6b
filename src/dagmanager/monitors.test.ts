import { afterEach, describe, expect, it } from 'vitest';
import { startHttpSink, type HttpSink } from '../common/http-sink.test-kit.js';
import { WebhookAlerter } from './alerts.js';
import { HttpEventPublisher, type EventPublisher } from './event-publisher.js';
import { MemoryNodeRepository } from './memory-node-repository.js';
import { MemoryQueueAdmin } from './memory-queue-admin.js';
import { QueueCompletionMonitor, recomputeStaleBuffering } from './monitors.js';
import { testRecord } from './node-repository.contract.test-kit.js';
import { PeriodicTask } from '../common/periodic-task.js';

const DAY = 24 * 3600 * 1000;
let sink: HttpSink | null = null;
afterEach(async () => {
  await sink?.close();
  sink = null;
});

function recorder(): EventPublisher & { events: { type: string; data: unknown }[] } {
  const events: { type: string; data: unknown }[] = [];
  return {
    events,
    publish: (type, data) => void events.push({ type, data }),
    flush: () => Promise.resolve(),
  };
}

describe('recomputeStaleBuffering', () => {
  it('switches nodes buffering for 7 days to a full recompute and tells consumers', async () => {
    const repo = MemoryNodeRepository.open();
    const fresh = testRecord('fresh', { topic: 't_fresh', bufferingSince: 5 * DAY });
    const stale = testRecord('stale', { topic: 't_stale', tags: ['a'], bufferingSince: 0 });
    await repo.createNodes([fresh, stale]);
    const events = recorder();
    expect((await recomputeStaleBuffering(repo, events, 7 * DAY + 1)).map((r) => r.topic)).toEqual([
      't_stale',
    ]);
    expect(events.events).toEqual([
      { type: 'queue_update', data: { tags: ['a'], interval: 60, queues: ['t_stale'], match_mode: 'any' } },
    ]);
    expect((await repo.getBufferingNodes(Number.MAX_SAFE_INTEGER)).map((r) => r.topic)).toEqual(['t_fresh']);
  });
});

describe('QueueCompletionMonitor', () => {
  it('announces a topic whose size stalled for `threshold` checks, once, and again after it grows', async () => {
    const repo = MemoryNodeRepository.open();
    const admin = new MemoryQueueAdmin();
    const record = testRecord('q', { topic: 't_q', tags: ['px'] });
    await repo.createNodes([record]);
    await admin.createTopic({ name: 't_q', partitions: 1, replicationFactor: 1, retentionMs: 1 });
    const events = recorder();
    const monitor = new QueueCompletionMonitor(repo, admin, events, 2);
    admin.append('t_q', 3);
    expect(await monitor.check()).toEqual([]);
    expect(await monitor.check()).toEqual([]);
    expect(await monitor.check()).toEqual(['t_q']);
    expect(await monitor.check()).toEqual([]);
    expect(events.events).toEqual([
      { type: 'queue_update', data: { tags: ['px'], interval: 60, queues: [], match_mode: 'any' } },
    ]);
    admin.append('t_q');
    await monitor.check();
    await monitor.check();
    expect(await monitor.check()).toEqual(['t_q']);
  });

  it('keeps the live queues of the same tags in its update, and never completes an empty topic', async () => {
    const repo = MemoryNodeRepository.open();
    const admin = new MemoryQueueAdmin();
    for (const name of ['stalled', 'live', 'empty']) {
      await repo.createNodes([testRecord(name, { topic: `t_${name}`, tags: ['px'] })]);
      await admin.createTopic({ name: `t_${name}`, partitions: 1, replicationFactor: 1, retentionMs: 1 });
    }
    const events = recorder();
    const monitor = new QueueCompletionMonitor(repo, admin, events, 2);
    admin.append('t_stalled', 3);
    const done: string[][] = [];
    for (let check = 0; check < 4; check++) {
      admin.append('t_live');
      done.push(await monitor.check());
    }
    expect(done).toEqual([[], [], ['t_stalled'], []]);
    expect(events.events).toEqual([
      {
        type: 'queue_update',
        data: { tags: ['px'], interval: 60, queues: ['t_empty', 't_live'], match_mode: 'any' },
      },
    ]);
  });
});

describe('HttpEventPublisher', () => {
  it('posts CloudEvents in order, retrying failures', async () => {
    sink = await startHttpSink([500]);
    const publisher = new HttpEventPublisher(`${sink.url}/callbacks/dag-event`, {
      sleep: () => Promise.resolve(),
    });
    publisher.publish('queue_update', { queues: ['a'] });
    publisher.publish('gc', { id: 'x', queues: [] });
    await publisher.flush();
    expect(sink.received.map((r) => (r.body as { type: string }).type)).toEqual([
      'queue_update',
      'queue_update',
      'gc',
    ]);
    expect(sink.received[2]!.body).toMatchObject({
      specversion: '1.0',
      source: 'qmtl.dagmanager',
      datacontenttype: 'application/json',
      data: { id: 'x', queues: [] },
    });
  });

  it('replaces a waiting queue_update or sentinel_weight of the same subject with the newer one', async () => {
    sink = await startHttpSink();
    const publisher = new HttpEventPublisher(sink.url, { sleep: () => Promise.resolve() });
    const update = (tag: string, queues: string[]) =>
      publisher.publish('queue_update', { tags: [tag], interval: 60, queues, match_mode: 'any' });
    update('a', ['q0']); // sent at once
    for (let i = 1; i <= 1_000; i++) update('a', [`q${i}`]);
    publisher.publish('gc', { id: 'x', queues: [] });
    update('b', ['b1']);
    publisher.publish('sentinel_weight', { sentinel_id: 's', weight: 0.1 });
    publisher.publish('sentinel_weight', { sentinel_id: 's', weight: 0.9 });
    await publisher.flush();
    const bodies = sink.received.map(
      (r) => r.body as { type: string; data: { queues?: string[]; weight?: number } },
    );
    expect(bodies.map((b) => [b.type, b.data.queues ?? b.data.weight])).toEqual([
      ['queue_update', ['q0']],
      ['queue_update', ['q1000']],
      ['gc', []],
      ['queue_update', ['b1']],
      ['sentinel_weight', 0.9],
    ]);
  });

  it('drops an event it cannot deliver without blocking later ones', async () => {
    sink = await startHttpSink([500, 500, 500]);
    const publisher = new HttpEventPublisher(sink.url, { sleep: () => Promise.resolve() });
    publisher.publish('a', {});
    publisher.publish('b', {});
    await publisher.flush();
    expect(sink.received.map((r) => (r.body as { type: string }).type)).toEqual(['a', 'a', 'a', 'b']);
  });
});

describe('WebhookAlerter', () => {
  it('sends warnings to Slack and critical alerts to Slack and PagerDuty', async () => {
    sink = await startHttpSink();
    const alerter = new WebhookAlerter(
      { slackUrl: `${sink.url}/slack`, pagerDutyUrl: `${sink.url}/pd`, routingKey: 'rk' },
      { sleep: () => Promise.resolve() },
    );
    await alerter.alert('warning', 'diff stream stalled');
    await alerter.alert('critical', 'neo4j down');
    expect(sink.received.map((r) => r.path).sort()).toEqual(['/pd', '/slack', '/slack']);
    expect(sink.received.find((r) => r.path === '/pd')!.body).toMatchObject({
      routing_key: 'rk',
      event_action: 'trigger',
      payload: { summary: 'neo4j down', severity: 'critical' },
    });
  });
});

describe('PeriodicTask', () => {
  it('runs on its interval without overlapping, survives failures and stops cleanly', async () => {
    let runs = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    const task = new PeriodicTask('t', 5, async () => {
      runs++;
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      await new Promise((r) => setTimeout(r, 10));
      concurrent--;
      if (runs === 2) throw new Error('boom');
    });
    task.start();
    while (runs < 4) await new Promise((r) => setTimeout(r, 5));
    await task.stop();
    const after = runs;
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toBe(after);
    expect(maxConcurrent).toBe(1);
  });

  it('is disabled by an interval of 0', async () => {
    let runs = 0;
    const task = new PeriodicTask('t', 0, () => Promise.resolve(runs++));
    task.start();
    await new Promise((r) => setTimeout(r, 10));
    await task.stop();
    expect(runs).toBe(0);
  });
});
