import { IlpRejectedError, type IlpSender } from './ilp-sender.js';

/** A line QuestDB refused when sent on its own, with its answer. */
export interface RefusedLine {
  readonly line: string;
  readonly error: IlpRejectedError;
}

/**
 * Sends `lines` as one batch; when QuestDB rejects it for its lines ({@link IlpRejectedError}
 * that `blamesLines`), sends each half the same way, in order, until the lines it refuses on
 * their own are left: every other line is written, in the order given. A batch of n lines with k
 * refused ones costs at most 1 + 2k·⌈log2 n⌉ requests. Returns the refused lines (none when the
 * batch went through). Any other failure (QuestDB unreachable, a rejection that is not about the
 * lines) is thrown as is; halves sent before it stay written, so the caller may send the whole
 * batch again only where rows are de-duplicated.
 * @example
 * const refused = await sendIsolatingRefused(sender, ['a v=1 1\n', 'a v="x" 2\n']);
 * refused.map((r) => r.line); // ['a v="x" 2\n'] if the table's v is a DOUBLE
 */
export async function sendIsolatingRefused(
  sender: IlpSender,
  lines: readonly string[],
): Promise<RefusedLine[]> {
  const refused: RefusedLine[] = [];
  await sendPart(sender, lines, refused);
  return refused;
}

async function sendPart(sender: IlpSender, lines: readonly string[], refused: RefusedLine[]): Promise<void> {
  try {
    await sender.send(lines.join(''));
  } catch (error) {
    if (!(error instanceof IlpRejectedError && error.blamesLines)) throw error;
    if (lines.length === 1) {
      refused.push({ line: lines[0]!, error });
      return;
    }
    const half = Math.ceil(lines.length / 2);
    await sendPart(sender, lines.slice(0, half), refused);
    await sendPart(sender, lines.slice(half), refused);
  }
}
