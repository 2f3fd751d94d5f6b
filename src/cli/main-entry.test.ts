import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const mainPath = fileURLToPath(new URL('./main.ts', import.meta.url));
/** The repository root: `--import tsx` resolves tsx from the working directory. */
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'qmtl-main-entry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `src/cli/main.ts` as a process, as the `qmtl` bin runs. */
async function qmtl(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', mainPath, ...args], {
      cwd: root,
      env: { ...process.env, QMTL_LOG_LEVEL: 'warn' },
    });
    return { code: 0, stderr };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

describe('the qmtl command as a process', () => {
  it('says the run never finished, exit 1, when a promise it awaits can never settle (not a silent 13)', async () => {
    // A strategy module whose loading awaits a promise nothing will ever settle: Node's event
    // loop runs dry while the command is pending.
    writeFileSync(path.join(dir, 'never.mjs'), 'await new Promise(() => {});\nexport class Never {}\n');
    const { code, stderr } = await qmtl('run', path.join(dir, 'never.mjs'), '--mode', 'offline');
    expect(stderr).toContain('qmtl: the run never finished: a promise never settled');
    expect(code).toBe(1);
  });
});
