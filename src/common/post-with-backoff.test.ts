import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from './errors.js';
import { startHttpSink, type HttpSink } from './http-sink.test-kit.js';
import { postWithBackoff } from './post-with-backoff.js';

let sink: HttpSink | null = null;
afterEach(async () => {
  await sink?.close();
  sink = null;
});

const noSleep = () => Promise.resolve();

describe('postWithBackoff', () => {
  it('posts JSON and succeeds on any 2xx', async () => {
    sink = await startHttpSink([200]);
    await postWithBackoff(`${sink.url}/hook`, { a: 1 });
    expect(sink.received).toMatchObject([{ path: '/hook', body: { a: 1 } }]);
  });

  it('retries 5xx and 429 with growing delays, then succeeds', async () => {
    sink = await startHttpSink([500, 429]);
    const delays: number[] = [];
    await postWithBackoff(
      sink.url,
      {},
      { sleep: (ms) => (delays.push(ms), Promise.resolve()), baseDelayMs: 100 },
    );
    expect(sink.received).toHaveLength(3);
    expect(delays).toEqual([100, 200]);
  });

  it('gives up after its attempts, naming the URL and the last status', async () => {
    sink = await startHttpSink([503, 503, 503]);
    await expect(postWithBackoff(sink.url, {}, { sleep: noSleep })).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
      message: expect.stringMatching(/POST ".*" failed: HTTP 503/),
    });
  });

  it('does not retry a 4xx other than 429', async () => {
    sink = await startHttpSink([422]);
    await expect(postWithBackoff(sink.url, {}, { sleep: noSleep })).rejects.toThrow(/HTTP 422/);
    expect(sink.received).toHaveLength(1);
  });

  it('reports an unreachable URL after retrying', async () => {
    await expect(
      postWithBackoff('http://127.0.0.1:1/x', {}, { sleep: noSleep, attempts: 2 }),
    ).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
      // The network's own reason, not only fetch's "fetch failed".
      message: 'POST "http://127.0.0.1:1/x" failed: fetch failed (bad port)',
    });
  });
});
