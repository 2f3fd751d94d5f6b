import { afterEach, describe, expect, it } from 'vitest';
import {
  listeningPort,
  switchableDagClient,
  testGateway,
  type TestGateway,
} from '../../gateway/gateway.test-kit.js';
import { SourceNode } from '../source-node.js';
import { Strategy } from '../strategy.js';
import { GatewayLink } from './gateway-link.js';

class Tiny extends Strategy {
  override setup(): void {
    this.addNodes([new SourceNode({ name: 'tiny', interval: 60, period: 1 })]);
  }
}

describe('GatewayLink submissions to a degraded Gateway', () => {
  let gw: TestGateway | null = null;
  afterEach(async () => {
    await gw?.gateway.close();
    gw = null;
  });

  /** A real Gateway whose CPU reads `busy()`: over 85 % it is MINIMAL and answers 503 + Retry-After 30. */
  const degradedGateway = async (busy: () => boolean): Promise<string> => {
    gw = await testGateway({ listen: true, cpuPercent: () => (busy() ? 90 : 0), degradationIntervalMs: 20 });
    return `http://127.0.0.1:${listeningPort(gw.gateway)}`;
  };

  it('waits out the Retry-After (capped) and submits again once the Gateway recovered', async () => {
    let busy = true;
    const gatewayUrl = await degradedGateway(() => busy);
    setTimeout(() => (busy = false), 50);
    const link = await GatewayLink.open([new Tiny()], {
      gatewayUrl,
      runType: 'dry-run',
      maxRetryAfterMs: 300,
    });
    expect(link.strategyIds).toHaveLength(1);
    expect(link.roles.produced.size).toBe(1);
    await link.close();
  });

  it('gives up after two waits, before the client breaker would open, naming the Gateway', async () => {
    const gatewayUrl = await degradedGateway(() => true);
    const started = Date.now();
    await expect(
      GatewayLink.open([new Tiny()], { gatewayUrl, runType: 'dry-run', maxRetryAfterMs: 100 }),
    ).rejects.toThrow(/gateway unreachable at .*degraded.*retry after 30 s/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });

  it('waits for a diff the Gateway could not compute at once and reads it when the DAG Manager is back', async () => {
    const dagClient = switchableDagClient({ up: false });
    gw = await testGateway({ listen: true, dagClient, degradationIntervalMs: 20 });
    const gatewayUrl = `http://127.0.0.1:${listeningPort(gw.gateway)}`;
    setTimeout(() => (dagClient.up = true), 300);
    const link = await GatewayLink.open([new Tiny()], { gatewayUrl, runType: 'dry-run' });
    expect(link.roles.produced.size).toBe(1);
    await link.close();
  });

  it('stops a submission whose diff never comes, so its DAG can be submitted again', async () => {
    const dagClient = switchableDagClient({ up: false });
    gw = await testGateway({ listen: true, dagClient, degradationIntervalMs: 20 });
    const gatewayUrl = `http://127.0.0.1:${listeningPort(gw.gateway)}`;
    await expect(
      GatewayLink.open([new Tiny()], { gatewayUrl, runType: 'dry-run', diffWaitMs: 400 }),
    ).rejects.toThrow(/has no diff for strategy "Tiny" yet \(DAG Manager unavailable\?\)/);
    dagClient.up = true;
    const again = await GatewayLink.open([new Tiny()], { gatewayUrl, runType: 'dry-run' });
    expect(again.strategyIds).toHaveLength(1);
    await again.close();
  });
});
