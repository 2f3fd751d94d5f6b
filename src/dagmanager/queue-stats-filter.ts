import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { parseInterval } from '../common/interval.js';
import type { TagQuery } from './node-record.js';

/**
 * Parses a `GetQueueStats` filter (SPEC §2.7): `tag=a,b;interval=60` (interval also as `1m`,
 * `1h`, …). Empty, or no tag → null (every topic). @throws QmtlError `QMTL_INVALID_ARGUMENT` naming the part.
 */
export function parseQueueStatsFilter(filter: string): TagQuery | null {
  if (filter.trim() === '') return null;
  let tags: string[] = [];
  let interval: number | null = null;
  for (const part of filter.split(';')) {
    if (part.trim() === '') continue;
    const [key, value = ''] = part.split('=', 2).map((s) => s.trim()) as [string, string?];
    if (key === 'tag' || key === 'tags')
      tags = value
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '');
    else if (key === 'interval') {
      if (value !== '') interval = parseInterval(/^\d+$/.test(value) ? Number(value) : value);
    } else {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `queue stats filter: unknown key ${quote(key)} in ${quote(filter)} (expected tag=a,b;interval=60)`,
      );
    }
  }
  // No tag: every topic, as the original does for its CLI's default filter `tag=;interval=1h`.
  if (tags.length === 0) return null;
  if (interval === null) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `queue stats filter ${quote(filter)} names tags but no interval (expected tag=a,b;interval=60)`,
    );
  }
  return { tags, interval, matchMode: 'any' };
}
