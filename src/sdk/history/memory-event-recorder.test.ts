import { describe, expect, it } from 'vitest';
import { MemoryEventRecorder } from './memory-event-recorder.js';

describe('MemoryEventRecorder', () => {
  it('records persisted events in call order', async () => {
    const recorder = new MemoryEventRecorder();
    await recorder.persist('btc', 60, 120, { close: 1 });
    await recorder.persist('eth', 300, 60, { close: 2 });
    expect(recorder.records).toEqual([
      { nodeId: 'btc', interval: 60, timestamp: 120, payload: { close: 1 } },
      { nodeId: 'eth', interval: 300, timestamp: 60, payload: { close: 2 } },
    ]);
  });

  it('forgets everything on reset', async () => {
    const recorder = new MemoryEventRecorder();
    await recorder.persist('btc', 60, 120, null);
    recorder.reset();
    expect(recorder.records).toEqual([]);
  });
});
