import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SourceNode } from '../source-node.js';
import { Strategy } from '../strategy.js';
import { GatewayLink } from './gateway-link.js';

class Tiny extends Strategy {
  override setup(): void {
    this.addNodes([new SourceNode({ name: 'tiny', interval: 60, period: 1 })]);
  }
}

/** A Gateway stand-in on loopback: answers POST /strategies with `replies` in turn, DELETE with 200. */
async function gatewayAnswering(replies: { status: number; headers?: Record<string, string> }[]): Promise<{
  url: string;
  server: Server;
  posts: () => number;
}> {
  let posts = 0;
  const server = createServer((request, response) => {
    request.resume();
    if (request.method !== 'POST') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"stopped"}');
      return;
    }
    const reply = replies[Math.min(posts++, replies.length - 1)]!;
    const body =
      reply.status === 202
        ? JSON.stringify({
            strategy_id: 's1',
            queue_map: {},
            topic_map: { n: 't' },
            sentinel_id: null,
            status: 'completed',
          })
        : JSON.stringify({ detail: 'degraded' });
    response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, posts: () => posts };
}

describe('GatewayLink submissions', () => {
  let server: Server | null = null;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('waits out a degraded Gateway’s Retry-After and submits again', async () => {
    const gateway = await gatewayAnswering([
      { status: 503, headers: { 'retry-after': '0' } },
      { status: 202 },
    ]);
    server = gateway.server;
    const link = await GatewayLink.open([new Tiny()], { gatewayUrl: gateway.url, runType: 'dry-run' });
    expect(link.strategyIds).toEqual(['s1']);
    expect(gateway.posts()).toBe(2);
    await link.close();
  });

  it('gives up after two retries, before the client breaker would open, naming the Gateway', async () => {
    const gateway = await gatewayAnswering([{ status: 503, headers: { 'retry-after': '0' } }]);
    server = gateway.server;
    await expect(
      GatewayLink.open([new Tiny()], { gatewayUrl: gateway.url, runType: 'dry-run' }),
    ).rejects.toThrow(/gateway unreachable at .*retry after 0 s/);
    expect(gateway.posts()).toBe(3);
  });
});
