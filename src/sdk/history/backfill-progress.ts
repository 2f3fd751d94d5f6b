const BAR_WIDTH = 20;

/**
 * The one-line progress display of a BackfillEngine: a bar, jobs done out of submitted, rows
 * loaded, redrawn in place with `\r` and ended with a newline once every job has finished.
 */
export class BackfillProgress {
  private total = 0;
  private done = 0;
  private failed = 0;
  private rows = 0;

  constructor(private readonly stream: NodeJS.WritableStream) {}

  /**
   * The display an engine option asks for: `true` draws on stderr only when it is a TTY (so
   * logs and CI output stay clean), a stream always draws there, anything else draws nothing.
   */
  static fromOption(option: boolean | NodeJS.WritableStream | undefined): BackfillProgress | null {
    if (option === undefined || option === false) return null;
    if (option === true) return process.stderr.isTTY ? new BackfillProgress(process.stderr) : null;
    return new BackfillProgress(option);
  }

  /** Counts one more job to do. */
  jobAdded(): void {
    this.total += 1;
    this.render();
  }

  /** Counts one job as finished, successfully with `rows` rows or not. */
  jobFinished(rows: number, ok: boolean): void {
    this.done += 1;
    this.rows += rows;
    if (!ok) this.failed += 1;
    this.render();
  }

  private render(): void {
    const filled = this.total === 0 ? 0 : Math.round((this.done / this.total) * BAR_WIDTH);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`;
    const failed = this.failed > 0 ? `, ${this.failed} failed` : '';
    const end = this.done === this.total ? '\n' : '';
    this.stream.write(
      `\rbackfill [${bar}] ${this.done}/${this.total} jobs, ${this.rows} rows${failed}${end}`,
    );
  }
}
