/**
 * Vitest global setup: starts on loopback every test server that has a `.ci/servers/NAME.sh`
 * script and is not already reachable (CI starts them first, so there this does nothing), and
 * stops what it started when the run ends. A server that cannot start leaves its suites failing
 * with the reason (see `describeWithServer`), never skipped.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isReachable, servers, type ServerName } from './servers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = (name: string): string => `${root}.ci/servers/${name}.sh`;

const started: ServerName[] = [];

/** Starts the unreachable servers that have a script. */
export async function setup(): Promise<void> {
  // QMTL_TEST_START_SERVERS=0: a quick run of unit tests that need no server.
  if (process.env['QMTL_TEST_START_SERVERS'] === '0') return;
  const missing: ServerName[] = [];
  for (const name of Object.keys(servers) as ServerName[]) {
    if (existsSync(script(name)) && !(await isReachable(name))) missing.push(name);
  }
  for (const name of missing) {
    try {
      execFileSync('bash', [`${root}.ci/servers.sh`, 'start', name], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      started.push(name);
    } catch {
      process.stderr.write(`could not start ${name}; its suites will fail (see .cache/infra/${name})\n`);
    }
  }
}

/** Stops what {@link setup} started. */
export function teardown(): void {
  if (started.length === 0) return;
  execFileSync('bash', [`${root}.ci/servers.sh`, 'stop', ...started], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}
