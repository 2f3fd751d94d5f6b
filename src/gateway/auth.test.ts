import type { IncomingMessage } from 'node:http';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { logger } from '../common/logger.js';
import { chainDag } from '../dagmanager/dag.test-kit.js';
import {
  listeningPort,
  submission,
  testGateway,
  WsEventClient,
  type TestGateway,
} from './gateway.test-kit.js';

const SECRET = 'gateway-test-secret-of-at-least-32-bytes';
const AUDIENCE = 'qmtl-gateway';
const NOW_S = Math.floor(Date.now() / 1000);

function sign(
  claims: { aud?: string; exp?: number } = {},
  options: { secret?: string; alg?: string } = {},
): Promise<string> {
  const jwt = new SignJWT({ sub: 'tester' })
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setIssuedAt(NOW_S)
    .setAudience(claims.aud ?? AUDIENCE)
    .setExpirationTime(claims.exp ?? NOW_S + 600);
  return jwt.sign(new TextEncoder().encode(options.secret ?? SECRET));
}

/** Authorization headers that must be refused, each with the token it carries (to check it never leaks). */
async function badCredentials(): Promise<[string, Record<string, string>, string][]> {
  const wrongSignature = await sign({}, { secret: 'another-secret-of-at-least-32-bytes!!' });
  const expired = await sign({ exp: NOW_S - 60 });
  const wrongAudience = await sign({ aud: 'someone-else' });
  const otherAlgorithm = await sign({}, { alg: 'HS512' });
  const unsigned = new UnsecuredJWT({ sub: 'tester' }).setAudience(AUDIENCE).encode();
  const good = await sign();
  return [
    ['a missing token', {}, ''],
    ['an empty bearer token', { authorization: 'Bearer ' }, ''],
    ['a malformed token', { authorization: 'Bearer not.a.jwt' }, 'not.a.jwt'],
    ['another scheme', { authorization: `Basic ${good}` }, good],
    ['a wrong signature', { authorization: `Bearer ${wrongSignature}` }, wrongSignature],
    ['an expired token', { authorization: `Bearer ${expired}` }, expired],
    ['a wrong audience', { authorization: `Bearer ${wrongAudience}` }, wrongAudience],
    ['an HS512 token', { authorization: `Bearer ${otherAlgorithm}` }, otherAlgorithm],
    ['an unsigned (alg none) token', { authorization: `Bearer ${unsigned}` }, unsigned],
  ];
}

let current: TestGateway | null = null;
const sockets: WebSocket[] = [];
let logged: unknown[][] = [];
beforeEach(() => {
  logged = [];
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    vi.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
      logged.push(args);
    });
  }
});
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  WsEventClient.closeAll();
  await current?.gateway.close();
  current = null;
  vi.restoreAllMocks();
});

async function start(options: Parameters<typeof testGateway>[0] = {}): Promise<TestGateway> {
  current = await testGateway({ jwt: { secret: SECRET, audience: AUDIENCE }, ...options });
  return current;
}

let submitted = 0;

/** A completed strategy to stop, so a stop that gets through answers 200. */
async function existingStrategy(
  gateway: TestGateway['gateway'],
  headers: Record<string, string>,
): Promise<string> {
  const response = await gateway.app.inject({
    method: 'POST',
    url: '/strategies',
    headers,
    payload: submission(chainDag(2, `auth${++submitted}`)),
  });
  expect(response.statusCode).toBe(202);
  return response.json().strategy_id as string;
}

interface MutatingRoute {
  readonly name: string;
  readonly method: 'POST' | 'DELETE';
  url(id: string): string;
  readonly payload?: object;
  /** Status when the request gets through. */
  readonly allowed: number;
}

const MUTATING: readonly MutatingRoute[] = [
  {
    name: 'POST /strategies',
    method: 'POST',
    url: () => '/strategies',
    payload: submission(chainDag(1, 'm')),
    allowed: 202,
  },
  { name: 'DELETE /strategies/:id', method: 'DELETE', url: (id) => `/strategies/${id}`, allowed: 200 },
  { name: 'POST /strategies/:id/stop', method: 'POST', url: (id) => `/strategies/${id}/stop`, allowed: 200 },
  {
    name: 'POST /strategies/:id/heartbeat',
    method: 'POST',
    url: (id) => `/strategies/${id}/heartbeat`,
    allowed: 200,
  },
  {
    name: 'POST /strategies/:id/claim',
    method: 'POST',
    url: (id) => `/strategies/${id}/claim`,
    allowed: 200,
  },
  {
    name: 'POST /callbacks/dag-event',
    method: 'POST',
    url: () => '/callbacks/dag-event',
    payload: { type: 'gc', data: { id: 'n1', queues: [] } },
    allowed: 202,
  },
];

describe('bearer JWT on mutating routes', () => {
  for (const route of MUTATING) {
    it(`${route.name}: refuses every bad credential with 401 + WWW-Authenticate: Bearer, never echoing the token`, async () => {
      const { gateway, store } = await start();
      const good = await sign();
      const id = await existingStrategy(gateway, { authorization: `Bearer ${good}` });
      const publish = vi.spyOn(gateway.wsHub, 'publish');
      for (const [what, headers, token] of await badCredentials()) {
        const response = await gateway.app.inject({
          method: route.method,
          url: route.url(id),
          headers,
          ...(route.payload && { payload: route.payload }),
        });
        expect({ what, status: response.statusCode }).toEqual({ what, status: 401 });
        expect(response.headers['www-authenticate']).toMatch(/^Bearer\b/);
        expect(response.json().code).toBe('QMTL_UNAUTHORIZED');
        if (token !== '') {
          expect(response.body).not.toContain(token);
          expect(JSON.stringify(response.headers)).not.toContain(token);
        }
      }
      // Nothing got through: no new strategy, no stop, no event.
      expect(await store.listByStatus(['queued', 'processing', 'completed', 'failed', 'stopped'])).toEqual([
        id,
      ]);
      expect((await store.get(id))?.status).toBe('completed');
      expect(publish).not.toHaveBeenCalled();
      const response = await gateway.app.inject({
        method: route.method,
        url: route.url(id),
        headers: { authorization: `Bearer ${good}` },
        ...(route.payload && { payload: route.payload }),
      });
      expect(response.statusCode).toBe(route.allowed);
      expect(response.body).not.toContain(good);
      expect(JSON.stringify(logged)).not.toContain(good);
    });
  }

  it('accepts the scheme in any case (RFC 7235) and surrounding spaces', async () => {
    const { gateway } = await start();
    const good = await sign();
    for (const authorization of [`bearer ${good}`, `BEARER ${good}`, `Bearer   ${good}  `]) {
      const response = await gateway.app.inject({
        method: 'POST',
        url: '/callbacks/dag-event',
        headers: { authorization },
        payload: { type: 'gc', data: { id: 'n1', queues: [] } },
      });
      expect({ authorization, status: response.statusCode }).toEqual({ authorization, status: 202 });
    }
  });

  it('authenticates before reading the body: an unauthenticated bad body is 401, not 422 or 413', async () => {
    const { gateway } = await start({ bodyLimit: 1024 });
    const malformed = await gateway.app.inject({
      method: 'POST',
      url: '/strategies',
      headers: { 'content-type': 'application/json' },
      payload: '{"dag_json": ',
    });
    expect(malformed.statusCode).toBe(401);
    const invalid = await gateway.app.inject({
      method: 'POST',
      url: '/strategies',
      payload: { dag_json: 5 },
    });
    expect(invalid.statusCode).toBe(401);
    const large = await gateway.app.inject({
      method: 'POST',
      url: '/callbacks/dag-event',
      payload: { type: 'gc', data: { id: 'x'.repeat(4096), queues: [] } },
    });
    expect(large.statusCode).toBe(401);
  });

  it('leaves read-only routes open', async () => {
    const { gateway } = await start();
    const id = await existingStrategy(gateway, { authorization: `Bearer ${await sign()}` });
    for (const url of [
      `/strategies/${id}/status`,
      `/strategies/${id}`,
      '/queues/by_tag?tags=price&interval=60',
      '/status',
      '/health',
      '/metrics',
      '/docs',
    ]) {
      expect({ url, status: (await gateway.app.inject({ url })).statusCode }).toEqual({ url, status: 200 });
    }
  });

  it('lets everything through when JWT is off', async () => {
    const { gateway } = await start({ jwt: null });
    const id = await existingStrategy(gateway, {});
    const callback = await gateway.app.inject({
      method: 'POST',
      url: '/callbacks/dag-event',
      payload: { type: 'gc', data: { id: 'n1', queues: [] } },
    });
    expect(callback.statusCode).toBe(202);
    expect((await gateway.app.inject({ method: 'POST', url: `/strategies/${id}/stop` })).statusCode).toBe(
      200,
    );
    await WsEventClient.connect(await listen(gateway));
  });
});

async function listen(gateway: TestGateway['gateway']): Promise<number> {
  await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  return listeningPort(gateway);
}

/** Opens `/ws` with `headers`; resolves with the refusal's status and headers, or 'open'. */
function upgrade(port: number, headers: Record<string, string>): Promise<'open' | IncomingMessage> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve('open'));
    socket.once('unexpected-response', (_request, response: IncomingMessage) => {
      resolve(response);
      response.resume();
    });
    socket.once('error', (error) => reject(error));
  });
}

describe('bearer JWT on the /ws upgrade', () => {
  it('refuses the upgrade for every bad credential and accepts a valid token', async () => {
    const { gateway } = await start();
    const port = await listen(gateway);
    for (const [what, headers] of await badCredentials()) {
      const outcome = await upgrade(port, headers);
      expect({ what, status: outcome === 'open' ? 'open' : outcome.statusCode }).toEqual({
        what,
        status: 401,
      });
      if (outcome !== 'open') expect(outcome.headers['www-authenticate']).toMatch(/^Bearer\b/);
    }
    expect(gateway.wsHub.clientCount).toBe(0);
    expect(await upgrade(port, { authorization: `Bearer ${await sign()}` })).toBe('open');
    expect(gateway.wsHub.clientCount).toBe(1);
  });
});
