/**
 * Where integration tests find the real servers on loopback (started by `.ci/run`, or by the
 * test run's global setup; override with the env vars named below), and
 * {@link describeWithServer}: a suite whose server is unreachable fails with the reason.
 */
import { connect } from 'node:net';
import { describe, it } from 'vitest';

/** Loopback endpoints of the test servers; each is overridable, e.g. `QMTL_TEST_KAFKA=127.0.0.1:29092`. */
export const servers = {
  redis: endpoint('QMTL_TEST_REDIS', '127.0.0.1:6379'),
  postgres: endpoint('QMTL_TEST_POSTGRES', '127.0.0.1:5432'),
  kafka: endpoint('QMTL_TEST_KAFKA', '127.0.0.1:19092'),
  neo4j: endpoint('QMTL_TEST_NEO4J', '127.0.0.1:7687'),
  /** QuestDB's PostgreSQL wire port; ILP/TCP is 9009 and HTTP 9000 on the same host. */
  questdb: endpoint('QMTL_TEST_QUESTDB', '127.0.0.1:8812'),
} as const;

export type ServerName = keyof typeof servers;

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** `host:port`. */
  readonly address: string;
}

function endpoint(variable: string, fallback: string): Endpoint {
  const address = process.env[variable] ?? fallback;
  const [host = '127.0.0.1', port = '0'] = address.split(':');
  return { host, port: Number(port), address };
}

/** True when a TCP connection to the server opens within `timeoutMs`. */
export function isReachable(server: ServerName, timeoutMs = 2_000): Promise<boolean> {
  const { host, port } = servers[server];
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * `describe` for a suite that needs a real server. Reachable: runs the suite. Unreachable: the
 * suite is one failing test naming the server, its address and how to start it.
 *
 * @example
 * const reachable = await isReachable('questdb');
 * describeWithServer('questdb', reachable, 'QuestDBLoader', () => { it(...) });
 */
export function describeWithServer(
  server: ServerName,
  reachable: boolean,
  title: string,
  body: () => void,
): void {
  if (reachable) {
    describe(title, body);
    return;
  }
  describe(title, () => {
    it(`needs ${server}`, () => {
      throw new Error(
        `${server} is not reachable at ${servers[server].address} (start it with: bash .ci/servers.sh start ${server})`,
      );
    });
  });
}
