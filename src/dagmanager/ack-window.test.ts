import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import { AckWindow } from './ack-window.js';

describe('AckWindow', () => {
  it('lets `window` chunks through un-acked, then waits for an ack', async () => {
    const acks = new AckWindow({ window: 2, ackTimeoutMs: 5_000 });
    const stream = acks.open('s');
    const signal = new AbortController().signal;
    await stream.beforeSend(1, signal);
    await stream.beforeSend(2, signal);
    let sent = false;
    const third = stream.beforeSend(3, signal).then(() => (sent = true));
    await new Promise((r) => setImmediate(r));
    expect(sent).toBe(false);
    expect(acks.ack('s', 1)).toBe(true);
    await third;
    expect(sent).toBe(true);
    stream.close();
    expect(acks.openStreams).toBe(0);
    expect(acks.ack('s', 2)).toBe(false);
  });

  it('takes an ack with chunk id 0 for the oldest chunk sent and not acknowledged', async () => {
    const acks = new AckWindow({ window: 2, ackTimeoutMs: 5_000 });
    const stream = acks.open('s');
    const signal = new AbortController().signal;
    await stream.beforeSend(1, signal);
    // Acks beyond what was sent acknowledge nothing more.
    for (let i = 0; i < 5; i++) acks.ack('s', 0);
    await stream.beforeSend(2, signal);
    await stream.beforeSend(3, signal);
    let sent = false;
    const fourth = stream.beforeSend(4, signal).then(() => (sent = true));
    await new Promise((r) => setImmediate(r));
    expect(sent).toBe(false);
    acks.ack('s', 0); // chunk 2
    await fourth;
    stream.close();
  });

  it('resumes after the chunk the client last acknowledged', async () => {
    const acks = new AckWindow({ window: 1 });
    const stream = acks.open('s', 5);
    await stream.beforeSend(6, new AbortController().signal);
    stream.close();
  });

  it('ends a stalled stream with QMTL_TIMEOUT and leaves nothing pending', async () => {
    const acks = new AckWindow({ window: 1, ackTimeoutMs: 20 });
    const stream = acks.open('s');
    await stream.beforeSend(1, new AbortController().signal);
    await expect(stream.beforeSend(2, new AbortController().signal)).rejects.toMatchObject({
      code: ErrorCode.Timeout,
      message: expect.stringContaining('chunk 1 not acknowledged within 20 ms'),
    });
    stream.close();
    expect(acks.openStreams).toBe(0);
  });

  it('stops waiting at once when the stream is cancelled', async () => {
    const acks = new AckWindow({ window: 1, ackTimeoutMs: 60_000 });
    const stream = acks.open('s');
    const controller = new AbortController();
    await stream.beforeSend(1, controller.signal);
    const waiting = stream.beforeSend(2, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({
      code: ErrorCode.Timeout,
      message: expect.stringContaining('cancelled'),
    });
    stream.close();
  });
});
