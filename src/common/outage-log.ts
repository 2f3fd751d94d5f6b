import { errorFields, logger } from './logger.js';

/** The messages of an {@link OutageLog}'s lines. */
export interface OutageMessages {
  /** The first failure of an outage. */
  readonly down: string;
  /** A reminder while it lasts. */
  readonly stillDown: string;
  /** The first success after it. */
  readonly recovered: string;
}

/** Options of an {@link OutageLog}. */
export interface OutageLogOptions {
  /** Fields of every line, naming what fails: `{ dependency: 'redis' }`, `{ task: 'lease monitor' }`. */
  readonly fields: Readonly<Record<string, unknown>>;
  readonly messages: OutageMessages;
  /** Level of the first line and the reminders. Default `warn`. */
  readonly level?: 'warn' | 'error';
  /** While it fails, the shortest time between two reminders, in ms. Default 60,000. */
  readonly reminderMs?: number;
  /** Clock, in ms. Default `Date.now`. */
  readonly now?: () => number;
}

/** Since when something fails, how often it failed, and when that was last logged. */
interface Outage {
  readonly since: number;
  failures: number;
  loggedAt: number;
}

/**
 * The log of something that is retried on its own (a dependency checked or called in a loop, a
 * background task), which would otherwise log every failed attempt: one line when an outage
 * starts, naming the error (its message; the stack only when debugging, see {@link errorFields}),
 * a reminder with the count of failures every `reminderMs` while it lasts, each other failure at
 * `debug`, and one `info` line when it works again, with how long it was down.
 *
 * @example
 * const outage = new OutageLog({ fields: { task: 'lease monitor' }, messages: { down: 'lease monitor failing', stillDown: 'lease monitor still failing', recovered: 'lease monitor works again' } });
 * try { await expireLeases(); outage.succeeded(); } catch (error) { outage.failed(error); }
 */
export class OutageLog {
  readonly #options: OutageLogOptions;
  readonly #reminderMs: number;
  readonly #now: () => number;
  #outage: Outage | null = null;

  constructor(options: OutageLogOptions) {
    this.#options = options;
    this.#reminderMs = options.reminderMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** True between a failure and the next success. */
  get down(): boolean {
    return this.#outage !== null;
  }

  /** One more failure: logged when it starts an outage or a reminder is due, else at `debug`. */
  failed(error: unknown): void {
    const { fields, messages, level = 'warn' } = this.#options;
    const now = this.#now();
    const outage = this.#outage;
    if (outage === null) {
      this.#outage = { since: now, failures: 1, loggedAt: now };
      logger[level]({ ...fields, ...errorFields(error) }, messages.down);
      return;
    }
    outage.failures++;
    if (now - outage.loggedAt < this.#reminderMs) {
      logger.debug({ ...fields, err: error, failures: outage.failures }, messages.stillDown);
      return;
    }
    outage.loggedAt = now;
    logger[level](
      { ...fields, ...errorFields(error), failures: outage.failures, downForMs: now - outage.since },
      messages.stillDown,
    );
  }

  /** A success: ends the outage, if there is one, with a line saying how long it lasted. */
  succeeded(): void {
    const outage = this.#outage;
    if (outage === null) return;
    this.#outage = null;
    logger.info(
      { ...this.#options.fields, failures: outage.failures, downForMs: this.#now() - outage.since },
      this.#options.messages.recovered,
    );
  }
}
