import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from './logger.js';
import { OutageLog } from './outage-log.js';

const messages = { down: 'store down', stillDown: 'store still down', recovered: 'store back' };

/** An OutageLog on a clock the test moves, and the lines it logs at each level. */
function outageLog(level?: 'warn' | 'error') {
  const clock = { now: 1_000 };
  const spy = (name: 'debug' | 'info' | 'warn' | 'error') =>
    vi.spyOn(logger, name).mockImplementation(() => undefined);
  const lines = { debug: spy('debug'), info: spy('info'), warn: spy('warn'), error: spy('error') };
  const log = new OutageLog({
    fields: { dependency: 'store' },
    messages,
    ...(level !== undefined && { level }),
    now: () => clock.now,
  });
  return { log, clock, lines };
}

describe('OutageLog', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('logs the start of an outage once, a reminder a minute with the count, and its end with the duration', () => {
    const { log, clock, lines } = outageLog();
    // One failure a second for 150 s.
    for (let second = 0; second < 150; second++) {
      log.failed(new Error('connection refused'));
      clock.now += 1_000;
    }
    log.succeeded();
    log.succeeded();

    expect(lines.warn.mock.calls).toEqual([
      [{ dependency: 'store', error: 'connection refused' }, 'store down'],
      [
        { dependency: 'store', error: 'connection refused', failures: 61, downForMs: 60_000 },
        'store still down',
      ],
      [
        { dependency: 'store', error: 'connection refused', failures: 121, downForMs: 120_000 },
        'store still down',
      ],
    ]);
    expect(lines.debug).toHaveBeenCalledTimes(147);
    expect(lines.info.mock.calls).toEqual([
      [{ dependency: 'store', failures: 150, downForMs: 150_000 }, 'store back'],
    ]);
  });

  it('starts a new outage after a recovery, and logs nothing for successes alone', () => {
    const { log, lines } = outageLog();
    log.succeeded();
    expect(log.down).toBe(false);
    log.failed(new Error('first'));
    expect(log.down).toBe(true);
    log.succeeded();
    log.failed(new Error('second'));
    expect(lines.warn.mock.calls.map(([fields]) => fields)).toEqual([
      { dependency: 'store', error: 'first' },
      { dependency: 'store', error: 'second' },
    ]);
    expect(lines.info).toHaveBeenCalledTimes(1);
  });

  it('logs at error when asked, and the whole error, stack included, only when debugging', () => {
    vi.stubEnv('QMTL_DEBUG', '1');
    const { log, lines } = outageLog('error');
    const error = new Error('kaput');
    log.failed(error);
    expect(lines.warn).not.toHaveBeenCalled();
    expect(lines.error.mock.calls).toEqual([
      [{ dependency: 'store', error: 'kaput', err: error }, 'store down'],
    ]);
  });
});
