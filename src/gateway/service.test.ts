import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultConfig, type QmtlConfig } from '../common/config.js';
import { ErrorCode } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { startGatewayService } from './service.js';

const dir = mkdtempSync(path.join(tmpdir(), 'qmtl-gateway-service-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A server holding a loopback port, as another qmtl service would. */
function occupy(): Promise<Server & { port: number }> {
  const server = createServer();
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(Object.assign(server, { port: (server.address() as { port: number }).port })),
    ),
  );
}

/** Whether a loopback port can be bound now. */
function free(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function config(gatewayPort: number, dagManager: { grpc: number; http: number }): QmtlConfig {
  const defaults = defaultConfig();
  return {
    gateway: { ...defaults.gateway, port: gatewayPort, database_backend: 'memory' },
    dagmanager: {
      ...defaults.dagmanager,
      grpc_port: dagManager.grpc,
      http_port: dagManager.http,
      memory_repo_path: path.join(dir, `dag-${gatewayPort}.journal`),
      archive_dir: path.join(dir, 'archive'),
      gc_interval: 0,
      queue_monitor_interval: 0,
    },
  };
}

describe('startGatewayService', () => {
  beforeEach(() => {
    vi.spyOn(logger, 'info').mockImplementation(() => undefined);
  });
  afterEach(() => vi.restoreAllMocks());

  it('names the port in use and its config key, and leaves nothing running (qmtl up twice)', async () => {
    const taken = await occupy();
    const [grpc, http] = await Promise.all([occupy(), occupy()]);
    const ports = { grpc: grpc.port, http: http.port };
    await Promise.all([grpc, http].map((server) => new Promise((resolve) => server.close(resolve))));
    try {
      await expect(startGatewayService(config(taken.port, ports))).rejects.toMatchObject({
        code: ErrorCode.Unavailable,
        message: `the Gateway cannot listen on 127.0.0.1:${taken.port}: the port is in use (another qmtl up, gw or dagmgr-server?): stop that process or set gateway.port in qmtl.yml`,
      });
      // The hosted DAG Manager was closed too, so its ports are free again.
      expect(await free(ports.grpc)).toBe(true);
      expect(await free(ports.http)).toBe(true);
    } finally {
      taken.close();
    }
  });

  it('names the DAG Manager port in use and its config key', async () => {
    const taken = await occupy();
    const gatewayPort = await occupy();
    const port = gatewayPort.port;
    gatewayPort.close();
    try {
      await expect(startGatewayService(config(port, { grpc: 0, http: taken.port }))).rejects.toMatchObject({
        message: `the DAG Manager (HTTP) cannot listen on 127.0.0.1:${taken.port}: the port is in use (another qmtl up, gw or dagmgr-server?): stop that process or set dagmanager.http_port in qmtl.yml`,
      });
    } finally {
      taken.close();
    }
  });
});
