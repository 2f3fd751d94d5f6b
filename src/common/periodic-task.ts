import { logger } from './logger.js';

/**
 * Runs `run` every `intervalMs` (the first run after one interval), never overlapping itself;
 * a failing run is logged and the schedule continues. `stop()` cancels the timer and waits for
 * a run in progress. An interval of 0 disables the task.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly run: () => Promise<unknown>,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || !this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  /** Runs once now (unless a run is in progress, which it then waits for). */
  async runOnce(): Promise<void> {
    if (this.running !== null) return this.running;
    this.running = this.run()
      .then(() => undefined)
      .catch((error: unknown) => logger.error({ err: error, task: this.name }, 'background task failed'))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      void this.runOnce().then(() => {
        if (!this.stopped) this.schedule();
      });
    }, this.intervalMs);
    this.timer.unref();
  }
}
