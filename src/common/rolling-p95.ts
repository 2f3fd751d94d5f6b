/**
 * The 95th percentile of the last `size` samples, as the original's `*_p95` gauges compute it
 * (sorted window, nearest rank).
 * @example const p95 = new RollingP95(); p95.add(12); p95.value; // 12
 */
export class RollingP95 {
  private readonly samples: number[] = [];

  constructor(private readonly size = 100) {}

  /** Adds a sample and returns the new p95. */
  add(sample: number): number {
    this.samples.push(sample);
    if (this.samples.length > this.size) this.samples.shift();
    return this.value;
  }

  /** The current p95 (0 before any sample). */
  get value(): number {
    if (this.samples.length === 0) return 0;
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))]!;
  }

  clear(): void {
    this.samples.length = 0;
  }
}
