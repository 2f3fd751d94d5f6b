/** Runs every benchmark in turn: `npm run bench`. */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

for (const name of ['backtest-throughput', 'shared-strategies', 'memory-rss']) {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  execFileSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
  console.log('');
}
