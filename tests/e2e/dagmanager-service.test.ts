import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { chainDag } from '../../src/dagmanager/dag.test-kit.js';
import { killServiceProcesses, startService, type ServiceProcess } from '../support/service-process.js';

const work = mkdtempSync(path.join(tmpdir(), 'qmtl-dagmgr-'));
afterAll(() => {
  killServiceProcesses();
  rmSync(work, { recursive: true, force: true });
});

writeFileSync(
  path.join(work, 'qmtl.yml'),
  [
    'dagmanager:',
    '  grpc_port: 0',
    '  http_port: 0',
    '  memory_repo_path: ./state/dag.journal',
    '  gc_interval: 0',
    '  pending_weight_limit: 1',
  ].join('\n'),
);
const dagFile = path.join(work, 'dag.json');
writeFileSync(dagFile, JSON.stringify(chainDag(150)));

/** `qmtl dagmgr-server` and the addresses its "running" line names. */
interface Running extends ServiceProcess {
  readonly grpc: string;
  readonly http: string;
}

/**
 * Starts `qmtl dagmgr-server` from the work dir, on the `qmtl.yml` it finds there, or from another
 * directory with `--config` naming that file (its relative journal path is then the same file).
 */
async function startServer(from: 'work dir' | 'elsewhere' = 'work dir'): Promise<Running> {
  const server =
    from === 'work dir'
      ? await startService(['dagmgr-server'], { cwd: work, ready: /gRPC (\S+), HTTP (\S+)/ })
      : await startService(['dagmgr-server', '--config', path.join(work, 'qmtl.yml')], {
          cwd: tmpdir(),
          ready: /gRPC (\S+), HTTP (\S+)/,
        });
  return { ...server, grpc: server.ready[1]!, http: server.ready[2]! };
}

/** SIGTERMs the server; resolves with its exit code. */
async function stopServer(server: Running): Promise<number | null> {
  server.child.kill('SIGTERM');
  return (await server.exited).code;
}

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await main(args, { stdout, stderr, cwd: work });
  return { code, stdout: out, stderr: err };
}

/** The topics `qmtl dagm queue-stats` lists for the tag `price` at 1m. */
async function priceQueues(server: Running): Promise<string[]> {
  const stats = await cli(
    'dagm',
    '--target',
    server.grpc,
    'queue-stats',
    '--tag',
    'price',
    '--interval',
    '1m',
  );
  return Object.keys(JSON.parse(stats.stdout) as object);
}

describe('qmtl dagmgr-server and qmtl dagm (separate processes)', () => {
  it('serves diffs over gRPC, reports status over HTTP, shuts down cleanly and keeps the DAG across a restart from another directory', async () => {
    const first = await startServer();
    let firstMap: Record<string, string>;
    try {
      const diff = await cli(
        'dagm',
        '--target',
        first.grpc,
        'diff',
        '--file',
        dagFile,
        '--strategy-id',
        's1',
      );
      expect(diff.code, diff.stderr).toBe(0);
      const reply = JSON.parse(diff.stdout) as {
        queue_map: Record<string, string>;
        topic_map: Record<string, string>;
      };
      expect(Object.keys(reply.queue_map)).toHaveLength(150);
      expect(reply.topic_map).toEqual(reply.queue_map);
      firstMap = reply.queue_map;
      const status = (await (await fetch(`${first.http}/status`)).json()) as { status: string };
      expect(status.status).toBe('ok');
      // pending_weight_limit (1 here) holds one weight for a sentinel no diff wrote; s1's is always taken.
      const weigh = async (version: string): Promise<number> =>
        (
          await fetch(`${first.http}/callbacks/sentinel-traffic`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ version, weight: 0.5 }),
          })
        ).status;
      expect(await weigh('early-sentinel')).toBe(202);
      expect(await weigh('other-sentinel')).toBe(429);
      expect(await weigh('s1-sentinel')).toBe(202);
      expect(await priceQueues(first)).toHaveLength(1);
    } finally {
      expect(await stopServer(first)).toBe(0);
    }
    expect(first.output()).toContain('DAG Manager stopped');

    const second = await startServer('elsewhere');
    try {
      const again = await cli(
        'dagm',
        '--target',
        second.grpc,
        'diff',
        '--file',
        dagFile,
        '--strategy-id',
        's2',
      );
      const reply = JSON.parse(again.stdout) as {
        queue_map: Record<string, string>;
        topic_map: Record<string, string>;
      };
      expect(reply.queue_map).toEqual(firstMap);
      expect(reply.topic_map).toEqual({});
      // The in-process queues of the stored nodes are back after the restart.
      expect(await priceQueues(second)).toHaveLength(1);
      const gc = await cli('dagm', '--target', second.grpc, 'gc', '--sentinel', 's1-sentinel');
      expect(gc.stdout).toContain('GC triggered for sentinel: s1-sentinel (150 produced node(s) released)');
    } finally {
      expect(await stopServer(second)).toBe(0);
    }
  }, 60_000);

  it('dry-runs a diff without any server', async () => {
    const result = await cli('dagm', 'diff', '--file', dagFile, '--dry-run');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ sentinel_id: 'cli-sentinel', chunks: 2 });
  });

  it('fails clearly when no DAG Manager answers or the file is missing (1), or a flag is refused (2)', async () => {
    const down = await cli('dagm', '--target', '127.0.0.1:1', 'queue-stats');
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/DAG Manager at "127\.0\.0\.1:1" is unavailable/);
    const badTimeout = await cli('dagm', '--target', '127.0.0.1:1', '--timeout', 'soon', 'queue-stats');
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.stderr).toMatch(/--timeout must be a positive number of seconds, got "soon"/);
    const missing = await cli('dagm', 'diff', '--file', 'nope.json', '--dry-run');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read DAG file "nope\.json"/);
  });
});
