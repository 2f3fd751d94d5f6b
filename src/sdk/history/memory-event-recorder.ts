import type { EventRecorder } from './protocols.js';

/** One call to {@link MemoryEventRecorder.persist}. */
export interface RecordedEvent {
  readonly nodeId: string;
  readonly interval: number;
  readonly timestamp: number;
  readonly payload: unknown;
}

/**
 * An {@link EventRecorder} that keeps every persisted event in memory, in call order: for tests
 * and for inspecting what a StreamInput emitted.
 * @example
 * const recorder = new MemoryEventRecorder();
 * await recorder.persist('btc', 60, 120, { close: 101 });
 * recorder.records; // [{ nodeId: 'btc', interval: 60, timestamp: 120, payload: { close: 101 } }]
 */
export class MemoryEventRecorder implements EventRecorder {
  private readonly events: RecordedEvent[] = [];

  /** The events persisted so far, oldest first. */
  get records(): readonly RecordedEvent[] {
    return this.events;
  }

  /** Appends one event. */
  persist(nodeId: string, interval: number, timestamp: number, payload: unknown): Promise<void> {
    this.events.push({ nodeId, interval, timestamp, payload });
    return Promise.resolve();
  }

  /** Forgets every recorded event. */
  reset(): void {
    this.events.length = 0;
  }
}
