/**
 * `qmtl run --mode dryrun --gateway-url … --bus-dsn redis://…` when the topic bus (a real Redis,
 * behind a proxy the test takes down) goes away mid-run: Ctrl-C twice stops at once, and the run
 * reports the outputs the bus did not take.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, expect, it, vi } from 'vitest';
import { logger } from '../../src/common/logger.js';
import { listeningPort, testGateway, type TestGateway } from '../../src/gateway/gateway.test-kit.js';
import { runQmtl, silenceLogsInEachTest, type CliResult } from '../support/cli-in-process.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const sdkEntry = fileURLToPath(new URL('../../src/sdk/index.js', import.meta.url));
const workDir = mkdtempSync(path.join(tmpdir(), 'qmtl-cli-bus-outage-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));
const START = Date.UTC(2024, 0, 1) / 1000;

// A stream replayed one bar every 20 ms, and its 5-bar mean: both published to the bus.
writeFileSync(path.join(workDir, 'package.json'), JSON.stringify({ type: 'module' }));
writeFileSync(
  path.join(workDir, 'slow.ts'),
  `import { MemoryHistoryProvider, ProcessingNode, ReplayFeed, Strategy, StreamInput } from ${JSON.stringify(sdkEntry)};

const provider = new MemoryHistoryProvider(Array.from({ length: 2000 }, (_, i) => ({ ts: ${START} + i * 60, close: 100 + Math.sin(i / 10) })));

export class Slow extends Strategy {
  constructor() {
    super({ defaultInterval: '1m', defaultPeriod: 1 });
  }

  setup(): void {
    const price = new StreamInput({ tags: ['BTC', 'cli-bus-outage', String(process.pid)], historyProvider: provider, liveFeed: new ReplayFeed({ provider, paceMs: 20 }) });
    const mean = new ProcessingNode({
      name: 'mean5',
      input: price,
      period: 5,
      computeFn: (view) => (view.input<{ close: number }>().field('close') as number[]).reduce((a, b) => a + b, 0) / 5,
    });
    this.addNodes([price, mean]);
  }
}
`,
);

/** Runs `qmtl …args` in-process and returns what it printed and its exit code. */
function qmtl(args: string[]): Promise<CliResult> {
  return runQmtl(args, workDir);
}

/** Polls `check` every 10 ms until it holds (the test's timeout bounds it). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
}

const reachable = await isReachable('redis');
silenceLogsInEachTest();

describeWithServer('redis', reachable, 'qmtl run while its topic bus goes down', () => {
  let gw: TestGateway;
  let proxy: TcpProxy;

  beforeEach(async () => {
    logger.level = 'silent';
    gw = await testGateway({ listen: true });
    proxy = new TcpProxy(servers.redis);
    await proxy.listen();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await proxy.close();
    await gw.gateway.close();
  });

  it('stops at once on a second Ctrl-C and reports the outputs the bus did not take', async () => {
    const info = vi.spyOn(logger, 'info');
    const warn = vi.spyOn(logger, 'warn');
    const logged = (spy: typeof info, text: string): boolean =>
      spy.mock.calls.some((args) => args.some((arg) => typeof arg === 'string' && arg.startsWith(text)));
    const running = qmtl([
      'run',
      'slow.ts',
      '--mode',
      'dryrun',
      '--start-time',
      String(START + 100 * 60),
      '--gateway-url',
      `http://127.0.0.1:${listeningPort(gw.gateway)}`,
      '--bus-dsn',
      `redis://${proxy.address}`,
      '--json',
    ]);
    await until(() => logged(info, 'running live'));
    await proxy.close();
    await until(() => logged(warn, 'the topic bus does not take outputs'));

    const began = Date.now();
    process.emit('SIGINT', 'SIGINT');
    await until(() => logged(info, 'stopping'));
    process.emit('SIGINT', 'SIGINT');
    const { code, stdout, stderr } = await running;
    expect(Date.now() - began).toBeLessThan(3_000);

    const summary = JSON.parse(stdout) as { published: number; unpublished: number };
    expect(summary.unpublished).toBeGreaterThan(0);
    expect(stderr).toBe(
      `qmtl: ${summary.unpublished} outputs were not published: the topic bus did not take them before the run stopped\n`,
    );
    expect(code).toBe(1);
  });
});
