import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig, findConfigFile, loadConfig, parseConfig } from './config.js';
import { QmtlError } from './errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'qmtl-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** The error `parseConfig` throws for `text`, checked to be one QMTL_INVALID_CONFIG error. */
function configError(text: string): QmtlError {
  try {
    parseConfig(text, '/project/qmtl.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(QmtlError);
    expect((error as QmtlError).code).toBe('QMTL_INVALID_CONFIG');
    expect((error as QmtlError).message).toContain('"/project/qmtl.yml"');
    return error as QmtlError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

const problems = (error: QmtlError) => error.problems.map((p) => p.message);

describe('parseConfig', () => {
  it('fills every default from an empty file', () => {
    const config = parseConfig('', 'qmtl.yml');
    expect(config).toEqual(defaultConfig());
    expect(config.gateway).toEqual({
      host: '127.0.0.1',
      port: 8000,
      redis_dsn: null,
      database_backend: 'sqlite',
      database_dsn: './qmtl.db',
      queue_backend: 'memory',
      insert_sentinel: true,
      dagmanager_url: null,
      max_body_bytes: 1_048_576,
      max_nodes: 100_000,
      diff_wait_ms: 10_000,
      lock_ttl_ms: 60_000,
      lease_ms: 15_000,
      lease_check_ms: 1_000,
      worker_concurrency: 32,
      database_pool_size: 20,
      max_pending_submissions: 2_000,
      unknown_weight_limit: 1_000,
      dagclient_breaker_threshold: 3,
      dagclient_breaker_timeout: 60,
      degradation_check_interval: 5,
      degradation_cpu_minimal: 85,
      degradation_cpu_static: 95,
      jwt_secret: null,
      jwt_audience: null,
      jwt_issuer: null,
      stats_rate_limit_per_minute: 600,
      submit_rate_limit_per_minute: 0,
    });
    expect(config.dagmanager).toEqual({
      repo_backend: 'memory',
      memory_repo_path: './qmtl-dag.journal',
      neo4j_dsn: null,
      neo4j_user: 'neo4j',
      neo4j_password: null,
      queue_backend: 'memory',
      kafka_dsn: null,
      grpc_host: '127.0.0.1',
      grpc_port: 50_051,
      http_host: '127.0.0.1',
      http_port: 8001,
      diff_chunk_size: 100,
      diff_ack_window: 10,
      diff_ack_timeout: 30,
      gateway_callback_url: null,
      gateway_callback_token: null,
      gc_interval: 3600,
      gc_batch_size: 50,
      archive_dir: './qmtl-archive',
      buffering_check_interval: 3600,
      queue_monitor_interval: 60,
      pending_weight_limit: 1000,
      pending_weight_ttl: 3600,
      slack_webhook_url: null,
      pagerduty_webhook_url: null,
    });
  });

  it('treats a file of comments and sections with no keys as defaults', () => {
    expect(parseConfig('# nothing yet\n', 'qmtl.yml')).toEqual(defaultConfig());
    expect(parseConfig('gateway:\n  # port: 9000\ndagmanager:\n', 'qmtl.yml')).toEqual(defaultConfig());
  });

  it('overrides keys of both sections and keeps the defaults of the rest', () => {
    const config = parseConfig(
      [
        'gateway:',
        '  port: 9000',
        '  redis_dsn: redis://127.0.0.1:6379/0',
        '  database_backend: postgres',
        '  database_dsn: postgresql://qmtl@127.0.0.1/qmtl',
        '  queue_backend: redis',
        '  insert_sentinel: false',
        'dagmanager:',
        '  repo_backend: neo4j',
        '  neo4j_dsn: bolt://127.0.0.1:7687',
        '  neo4j_password: secret',
        '  queue_backend: kafka',
        '  kafka_dsn: 127.0.0.1:9092',
        '  grpc_port: 0',
        '  diff_chunk_size: 50',
      ].join('\n'),
      'qmtl.yml',
    );
    expect(config.gateway).toMatchObject({
      host: '127.0.0.1',
      port: 9000,
      database_backend: 'postgres',
      queue_backend: 'redis',
      insert_sentinel: false,
      max_body_bytes: 1_048_576,
      max_nodes: 100_000,
      diff_wait_ms: 10_000,
      lock_ttl_ms: 60_000,
      lease_ms: 15_000,
      lease_check_ms: 1_000,
      worker_concurrency: 32,
      database_pool_size: 20,
      max_pending_submissions: 2_000,
      unknown_weight_limit: 1_000,
      dagclient_breaker_threshold: 3,
      dagclient_breaker_timeout: 60,
      degradation_check_interval: 5,
      degradation_cpu_minimal: 85,
      degradation_cpu_static: 95,
      jwt_secret: null,
      jwt_audience: null,
      jwt_issuer: null,
      stats_rate_limit_per_minute: 600,
      submit_rate_limit_per_minute: 0,
    });
    expect(config.gateway.redis_dsn).toBe('redis://127.0.0.1:6379/0');
    expect(config.dagmanager).toMatchObject({
      repo_backend: 'neo4j',
      neo4j_password: 'secret',
      queue_backend: 'kafka',
      kafka_dsn: '127.0.0.1:9092',
      grpc_port: 0,
      diff_chunk_size: 50,
      diff_ack_window: 10,
    });
  });

  it('accepts JSON, which is YAML', () => {
    const config = parseConfig(
      '{"gateway": {"port": 9100, "redis_dsn": null}, "dagmanager": {"http_port": 9101}}',
      'qmtl.json',
    );
    expect(config.gateway.port).toBe(9100);
    expect(config.gateway.redis_dsn).toBeNull();
    expect(config.dagmanager.http_port).toBe(9101);
  });

  it('names the key path and quotes the value of a wrong type', () => {
    expect(problems(configError('gateway:\n  port: abc\n'))).toEqual([
      'gateway.port: expected number, got "abc"',
    ]);
    expect(problems(configError('dagmanager:\n  kafka_dsn: 9092\n'))).toEqual([
      'dagmanager.kafka_dsn: expected string or null, got 9092',
    ]);
    expect(problems(configError('gateway:\n  insert_sentinel: "yes"\n'))).toEqual([
      'gateway.insert_sentinel: expected boolean, got "yes"',
    ]);
    expect(problems(configError('gateway:\n  host: ~\n'))).toEqual([
      'gateway.host: expected string, got null',
    ]);
  });

  it('rejects values outside a key’s range or choices', () => {
    expect(problems(configError('gateway:\n  port: 70000\n'))).toEqual([
      'gateway.port: expected at most 65535, got 70000',
    ]);
    expect(problems(configError('dagmanager:\n  diff_ack_window: 0\n'))).toEqual([
      'dagmanager.diff_ack_window: expected at least 1, got 0',
    ]);
    expect(
      problems(configError('dagmanager:\n  pending_weight_limit: -1\n  pending_weight_ttl: 0\n')),
    ).toEqual([
      'dagmanager.pending_weight_limit: expected at least 0, got -1',
      'dagmanager.pending_weight_ttl: expected at least 1, got 0',
    ]);
    expect(problems(configError('gateway:\n  unknown_weight_limit: -1\n'))).toEqual([
      'gateway.unknown_weight_limit: expected at least 0, got -1',
    ]);
    expect(problems(configError('dagmanager:\n  grpc_port: 1.5\n'))).toEqual([
      'dagmanager.grpc_port: expected an integer, got 1.5',
    ]);
    expect(problems(configError('gateway:\n  lease_ms: 0\n  lease_check_ms: 0.5\n'))).toEqual([
      'gateway.lease_ms: expected at least 1, got 0',
      'gateway.lease_check_ms: expected an integer, got 0.5',
    ]);
    // Past 2^31 - 1 ms a Node.js timer fires at once, so GC would run in a loop.
    expect(
      problems(configError('dagmanager:\n  gc_interval: 3000000\n  diff_ack_timeout: 3000000\n')),
    ).toEqual([
      'dagmanager.diff_ack_timeout: expected at most 2147483, got 3000000',
      'dagmanager.gc_interval: expected at most 2147483, got 3000000',
    ]);
    expect(problems(configError('gateway:\n  lease_ms: 3000000000\n'))).toEqual([
      'gateway.lease_ms: expected at most 2147483647, got 3000000000',
    ]);
    for (const uri of ['127.0.0.1:7687', 'bolt://', 'bolt://127.0.0.1:notaport']) {
      expect(problems(configError(`dagmanager:\n  neo4j_dsn: "${uri}"\n`))).toEqual([
        `dagmanager.neo4j_dsn: expected a Bolt URI such as "bolt://127.0.0.1:7687" (bolt:// or neo4j://, a host, an optional numeric port), got "${uri}"`,
      ]);
    }
    expect(
      parseConfig('dagmanager:\n  neo4j_dsn: neo4j+s://db.example:7687\n', 'qmtl.yml').dagmanager.neo4j_dsn,
    ).toBe('neo4j+s://db.example:7687');
    expect(problems(configError('gateway:\n  database_backend: mysql\n'))).toEqual([
      'gateway.database_backend: expected one of "sqlite", "postgres", "memory", got "mysql"',
    ]);
    expect(problems(configError('dagmanager:\n  queue_backend: redis\n'))).toEqual([
      'dagmanager.queue_backend: expected one of "memory", "kafka", got "redis"',
    ]);
  });

  it('names every unknown key with its path and the known keys', () => {
    const error = configError('gateway:\n  prot: 8000\n  hots: x\ndagmanager:\n  repo: memory\n');
    expect(problems(error)).toEqual([
      expect.stringMatching(
        /^gateway\.prot: unknown key \(known keys: host, port, redis_dsn, .*max_body_bytes, .*submit_rate_limit_per_minute\)$/,
      ),
      expect.stringMatching(/^gateway\.hots: unknown key/),
      expect.stringMatching(/^dagmanager\.repo: unknown key \(known keys: repo_backend, /),
    ]);
  });

  it('points a section key written at the top level to its section', () => {
    expect(problems(configError('port: 9000\nstrategies: []\n'))).toEqual([
      'port: unknown key (known keys: gateway, dagmanager); it is a gateway key, put it under "gateway:"',
      'strategies: unknown key (known keys: gateway, dagmanager)',
    ]);
  });

  it('rejects a top level or a section that is not a mapping', () => {
    expect(problems(configError('- gateway\n'))).toEqual([
      '(top level): expected a mapping, got a list ["gateway"]',
    ]);
    expect(problems(configError('just text\n'))).toEqual([
      '(top level): expected a mapping, got "just text"',
    ]);
    expect(problems(configError('gateway: 8000\ndagmanager: [a]\n'))).toEqual([
      'gateway: expected a mapping, got 8000',
      'dagmanager: expected a mapping, got a list ["a"]',
    ]);
  });

  it('lists every problem of the file in one error', () => {
    const error = configError('gateway:\n  port: "80"\n  extra: 1\ndagmanager:\n  http_port: -1\n');
    expect(problems(error)).toEqual([
      'gateway.port: expected number, got "80"',
      expect.stringMatching(/^gateway\.extra: unknown key/),
      'dagmanager.http_port: expected at least 0, got -1',
    ]);
    expect(error.message).toMatch(
      /^invalid config file "\/project\/qmtl.yml":\n {2}- gateway\.port: .*\n {2}- gateway\.extra: .*\n {2}- dagmanager\.http_port: /,
    );
  });

  it('reports YAML syntax errors with their line and column', () => {
    expect(problems(configError('gateway:\n  port: 8000\n  port: 8001\n'))).toEqual([
      'line 3, column 3: Map keys must be unique',
    ]);
    expect(problems(configError('gateway:\n\tport: 8000\n'))[0]).toMatch(
      /^line 2, column 1: Tabs are not allowed as indentation/,
    );
    expect(problems(configError('gateway: {port: 8000\n'))[0]).toMatch(/^line \d+, column \d+: /);
  });

  it('reports an alias to no anchor and an alias bomb as config errors (found by the fuzz test)', () => {
    expect(problems(configError('gateway:\n  port: *nowhere\n'))[0]).toMatch(
      /^YAML syntax: Unresolved alias/,
    );
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let k = 1; k < 8; k++)
      bomb.push(
        `${'abcdefgh'[k]}: &${'abcdefgh'[k]} [${Array(10)
          .fill(`*${'abcdefgh'[k - 1]}`)
          .join(', ')}]`,
      );
    expect(problems(configError(bomb.join('\n')))[0]).toMatch(/^YAML syntax: /);
  });
});

describe('loadConfig', () => {
  it('reads and validates a file', () => {
    const file = write('load/qmtl.yml', 'gateway:\n  port: 9200\n');
    expect(loadConfig(file).gateway.port).toBe(9200);
  });

  it('names the file in validation errors', () => {
    const file = write('bad/qmtl.yml', 'gateway:\n  port: abc\n');
    expect(() => loadConfig(file)).toThrow(
      `invalid config file ${JSON.stringify(file)}:\n  - gateway.port: expected number, got "abc"`,
    );
  });

  it('reports a missing file as given, and where it resolved to when that differs', () => {
    const failure = (file: string, cwd?: string): unknown => {
      try {
        return loadConfig(file, cwd);
      } catch (e) {
        return e;
      }
    };
    const missing = path.join(dir, 'nope', 'qmtl.yml');
    const absolute = failure(missing);
    expect(absolute).toBeInstanceOf(QmtlError);
    expect((absolute as QmtlError).code).toBe('QMTL_INVALID_CONFIG');
    expect((absolute as QmtlError).message).toBe(`config file ${JSON.stringify(missing)} not found`);
    expect((failure('nope/qmtl.yml', dir) as QmtlError).message).toBe(
      `config file "nope/qmtl.yml" not found (resolved to ${missing})`,
    );
  });

  it('reads a relative path against the directory it is given', () => {
    write('relative/qmtl.yml', 'gateway:\n  port: 9300\n');
    expect(loadConfig('relative/qmtl.yml', dir).gateway.port).toBe(9300);
  });
});

describe('findConfigFile', () => {
  it('prefers qmtl.yml, falls back to qmtl.yaml and returns null when there is neither', () => {
    const both = path.join(dir, 'find-both');
    write('find-both/qmtl.yml', '');
    write('find-both/qmtl.yaml', '');
    expect(findConfigFile(both)).toBe(path.join(both, 'qmtl.yml'));
    write('find-yaml/qmtl.yaml', '');
    expect(findConfigFile(path.join(dir, 'find-yaml'))).toBe(path.join(dir, 'find-yaml', 'qmtl.yaml'));
    mkdirSync(path.join(dir, 'find-none'), { recursive: true });
    expect(findConfigFile(path.join(dir, 'find-none'))).toBeNull();
  });
});
