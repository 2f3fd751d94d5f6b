/**
 * A command line qmtl refuses by itself: a flag's value, or flags that do not go together. `qmtl`
 * exits 2 for it, as for the argument parser's own errors; a command that fails once it runs
 * (reading a file, contacting a server, running a strategy) exits 1. Thrown by {@link checkUsage};
 * the error the check threw is its `cause`.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Runs `check`, which looks at the command line alone (it reads no file and contacts nothing),
 * and turns what it throws into a {@link UsageError} with the same message.
 * @example const deadlineMs = checkUsage(() => timeoutMs(options.timeout));
 */
export function checkUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}
