/**
 * The figures of the Gateway benchmarks (`gateway-submit.ts`, `gateway-burst.ts`): quantiles, the
 * formatting of table cells, and the CPU time of other processes read from /proc.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The `p` quantile (0–1) of ascending values, NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Milliseconds for a table: two decimals under 10, one above. */
export const ms = (x: number): string => (Number.isNaN(x) ? '—' : x < 10 ? x.toFixed(2) : x.toFixed(1));

/** p50 / p95 / p99 / max of the answered requests (a latency of null: no reply came). */
export function latencySummary(result: { readonly latencies: readonly (number | null)[] }): {
  p50: number;
  p95: number;
  p99: number;
  max: number;
} {
  const sorted = result.latencies.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? NaN,
  };
}

/** `value: count` pairs in first-seen order, e.g. `202: 998, error:TypeError:ECONNRESET: 2`. */
export function countBy(values: readonly (string | null)[]): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(String(value), (counts.get(String(value)) ?? 0) + 1);
  return [...counts].map(([key, count]) => `${key}: ${count}`).join(', ');
}

/** CPU ms used so far by a process (/proc/PID/stat utime + stime; 100 ticks/s); 0 once it is gone. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** Pids of the processes named `comm` (/proc/PID/comm), e.g. the shared `redis-server`. */
export function pidsNamed(comm: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => {
      try {
        return /^\d+$/.test(entry) && readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm;
      } catch {
        return false; // it ended between the listing and the read
      }
    })
    .map(Number);
}
