/**
 * The SDK's Gateway client over generated replies (any status, any body, near-valid submissions,
 * any Retry-After): `submit` resolves with a well-typed submission or rejects with a QmtlError,
 * never another exception.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QmtlError } from '../common/errors.js';
import { chainDag } from '../dagmanager/dag.test-kit.js';
import { GatewayClient } from './gateway-client.js';

const nearValid = fc
  .record(
    {
      strategy_id: fc.oneof(fc.string(), fc.jsonValue()),
      queue_map: fc.oneof(
        fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.array(fc.string()), fc.integer())),
        fc.jsonValue(),
      ),
      topic_map: fc.oneof(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())), fc.jsonValue()),
      sentinel_id: fc.oneof(fc.string(), fc.constant(null), fc.integer()),
      status: fc.oneof(fc.constantFrom('completed', 'queued', 'failed'), fc.jsonValue()),
      error: fc.oneof(fc.string(), fc.jsonValue()),
      code: fc.oneof(fc.constantFrom('QMTL_INVALID_DAG', 'QMTL_DUPLICATE_STRATEGY', 'nope'), fc.jsonValue()),
      problems: fc.jsonValue(),
    },
    { requiredKeys: [] },
  )
  .map((body) => JSON.stringify(body));

describe('GatewayClient over generated replies', () => {
  it('resolves with a well-typed submission or rejects with a QmtlError', async () => {
    const dag = chainDag(2);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(200, 201, 202, 204, 400, 401, 404, 409, 413, 422, 429, 500, 502, 503),
        fc.oneof(nearValid, fc.json(), fc.string()),
        fc.option(fc.oneof(fc.constantFrom('1', '0', 'soon', 'Wed, 21 Oct 2015 07:28:00 GMT'), fc.string())),
        async (status, body, retryAfter) => {
          const client = new GatewayClient({
            gatewayUrl: 'http://gateway.test',
            fetch: () =>
              Promise.resolve(
                new Response(status === 204 ? null : body, {
                  status,
                  headers: retryAfter === null ? {} : { 'retry-after': retryAfter },
                }),
              ),
            sleep: () => Promise.resolve(),
          });
          try {
            const submission = await client.submit(dag, { runType: 'live' });
            expect(typeof submission.strategyId).toBe('string');
            expect(typeof submission.status).toBe('string');
            expect(submission.sentinelId === null || typeof submission.sentinelId === 'string').toBe(true);
            for (const topic of Object.values(submission.topicMap)) expect(typeof topic).toBe('string');
            for (const value of Object.values(submission.queueMap))
              expect(
                typeof value === 'string' ||
                  (Array.isArray(value) && value.every((t) => typeof t === 'string')),
              ).toBe(true);
          } catch (error) {
            expect(error, String(error)).toBeInstanceOf(QmtlError);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
