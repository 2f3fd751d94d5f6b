/**
 * Gateway `/ws` fan-out: messages/s delivered to 10 real `ws` clients (in a child process, so
 * server and clients each get a core), publishing `events` `queue_update` CloudEvents (~300 bytes)
 * as fast as the clients take them. Two variants, alternating over `rounds`, medians printed:
 * - hub: a Fastify app with the WebSocketHub on 127.0.0.1:0 (`hub.publish`),
 * - raw: a bare `ws` WebSocketServer and a hand-written loop (serialise once, `client.send` each).
 * Both publish in batches of 500 with setImmediate between them and keep at most 8,000 events
 * unread by the slowest client (under the hub's 4 MiB drop cap), so no client is ever dropped.
 * Delivered messages/s = events × clients / time from the first publish until every client has
 * received every event.
 *   node --import tsx bench/gateway-ws-fanout.ts [events=200000] [rounds=3]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { fastify } from 'fastify';
import { WebSocket, WebSocketServer } from 'ws';
import { cloudEvent } from '../src/common/cloud-event.js';
import type { GatewayEventData } from '../src/gateway/event-hub.js';
import { WebSocketHub } from '../src/gateway/ws-hub.js';

const [eventsArg = '200000', roundsArg = '3', role, url] = process.argv.slice(2);
const events = Number(eventsArg);
const rounds = Number(roundsArg);
const CLIENTS = 10;
const BATCH = 500;
const WINDOW = 8000;
const REPORT_EVERY = 1000;

/** Child → parent messages. */
type Report = { ready: true } | { received: number } | { failed: string };

const update = (i: number): GatewayEventData['queue_update'] => ({
  tags: ['btc', 'price'],
  interval: 60,
  queues: [`q-${i % 97}`, 'q-btc-price-60'],
  match_mode: 'any',
});

if (role === 'clients') runClients(url!);
else await main();

/** Child: 10 clients count messages, report the slowest one's count, check the last seq. */
function runClients(target: string): void {
  const counts = new Array<number>(CLIENTS).fill(0);
  let reported = 0;
  let open = 0;
  const send = (report: Report): void => void process.send!(report);
  for (let c = 0; c < CLIENTS; c++) {
    const socket = new WebSocket(target);
    socket.on('open', () => ++open === CLIENTS && send({ ready: true }));
    socket.on('close', (code) => counts[c]! < events && send({ failed: `client ${c} closed (${code})` }));
    socket.on('message', (data: Buffer) => {
      const count = ++counts[c]!;
      if (count === events && (JSON.parse(data.toString()) as { seq: number }).seq !== events) {
        send({ failed: `client ${c}: last message is not seq ${events}` });
      }
      if (count % REPORT_EVERY !== 0 && count !== events) return;
      const slowest = Math.min(...counts);
      if (slowest > reported) send({ received: (reported = slowest) });
    });
  }
  process.on('disconnect', () => process.exit(0));
}

interface Variant {
  readonly url: string;
  publish(seq: number): void;
  close(): Promise<void>;
}

async function hubVariant(): Promise<Variant> {
  const app = fastify();
  const hub = new WebSocketHub();
  await hub.register(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    publish: (seq) => hub.publish('queue_update', update(seq)),
    close: () => app.close(),
  };
}

async function rawVariant(): Promise<Variant> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/`,
    publish: (seq) => {
      const json = JSON.stringify({ ...cloudEvent('qmtl.gateway', 'queue_update', update(seq)), seq });
      for (const client of server.clients) client.send(json);
    },
    close: async () => {
      for (const client of server.clients) client.terminate();
      server.close();
      await once(server, 'close');
    },
  };
}

/** One run: returns delivered messages/s. */
async function measure(variant: Variant): Promise<number> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [
    eventsArg,
    roundsArg,
    'clients',
    variant.url,
  ]);
  let received = 0;
  let wake = (): void => undefined;
  let failure: string | null = null;
  child.on('message', (report: Report) => {
    if ('failed' in report) failure = report.failed;
    if ('received' in report) received = report.received;
    wake();
  });
  const progress = (): Promise<void> => new Promise((resolve) => (wake = resolve));
  while (!('ready' in ((await once(child, 'message')) as [Report])[0]));
  const start = performance.now();
  for (let seq = 1; seq <= events;) {
    for (const end = Math.min(events, seq + BATCH - 1); seq <= end; seq++) variant.publish(seq);
    await nextTurn();
    while (seq - 1 - received > WINDOW && failure === null) await progress();
  }
  while (received < events && failure === null) await progress();
  const seconds = (performance.now() - start) / 1000;
  child.disconnect();
  await variant.close();
  if (failure !== null) throw new Error(failure);
  return (events * CLIENTS) / seconds;
}

async function main(): Promise<void> {
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const hub: number[] = [];
  const raw: number[] = [];
  for (let round = 0; round < rounds; round++) {
    hub.push(await measure(await hubVariant()));
    raw.push(await measure(await rawVariant()));
  }
  const format = (rate: number): string => Math.round(rate).toLocaleString('en-US').padStart(10);
  const total = (events * CLIENTS).toLocaleString('en-US');
  console.log(
    `/ws fan-out: ${events.toLocaleString('en-US')} events × ${CLIENTS} clients = ${total} messages`,
  );
  console.log(`median of ${rounds} alternating runs, delivered messages/s`);
  console.log(`  hub (WebSocketHub)       ${format(median(hub))}   runs: ${hub.map(format).join(',')}`);
  console.log(`  raw ws loop (baseline)   ${format(median(raw))}   runs: ${raw.map(format).join(',')}`);
  console.log(`  ratio hub / raw          ${(median(hub) / median(raw)).toFixed(2)}x`);
}
