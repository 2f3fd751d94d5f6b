import { randomUUID } from 'node:crypto';

/** A CloudEvents 1.0 event in structured JSON mode (SPEC §2.6). */
export interface CloudEventJson<T = unknown> {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly data: T;
}

/** Where qmtl events come from (`source` of the CloudEvent). */
export type EventSource = 'qmtl.gateway' | 'qmtl.dagmanager';

/**
 * Builds a CloudEvent.
 * @example cloudEvent('qmtl.gateway', 'progress', { strategy_id: 's1', status: 'queued' });
 */
export function cloudEvent<T>(
  source: EventSource,
  type: string,
  data: T,
  now = Date.now(),
): CloudEventJson<T> {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source,
    type,
    time: new Date(now).toISOString(),
    datacontenttype: 'application/json',
    data,
  };
}
