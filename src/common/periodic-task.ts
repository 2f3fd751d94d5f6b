import { OutageLog } from './outage-log.js';

/**
 * Runs `run` every `intervalMs` (the first run after one interval), never overlapping itself;
 * a failing run does not stop the schedule. Failures are logged as an outage (see
 * {@link OutageLog}): one `error` line when the task starts failing, a reminder a minute, one line
 * when it works again, so a task that reads a dependency that is down does not flood the log.
 * `stop()` cancels the timer and waits for a run in progress. An interval of 0 disables the task.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private readonly outage: OutageLog;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly run: () => Promise<unknown>,
  ) {
    this.outage = new OutageLog({
      fields: { task: name },
      level: 'error',
      messages: {
        down: 'a background task fails; it runs again at its interval',
        stillDown: 'a background task still fails',
        recovered: 'a background task works again',
      },
    });
  }

  start(): void {
    if (this.intervalMs <= 0 || !this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  /** Runs once now (unless a run is in progress, which it then waits for). */
  async runOnce(): Promise<void> {
    if (this.running !== null) return this.running;
    this.running = this.run()
      .then(
        () => this.outage.succeeded(),
        (error: unknown) => this.outage.failed(error),
      )
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
