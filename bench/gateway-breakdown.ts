/**
 * The `breakdown` option of the Gateway benchmarks: timing proxies around a Gateway's adapters and
 * hooks on its intake and HTTP server, to split each submission into phases in the Gateway process.
 */
import type { Gateway } from '../src/gateway/create-gateway.js';
import { ms, percentile } from './gateway-figures.js';

/** Per-submission phases: from one timing mark to another (`>` call start, `<` call end). */
const PHASES: readonly (readonly [string, string, string])[] = [
  ['validate + sentinel (until the insert starts)', 'submit>', 'store.insert>'],
  ['store.insert (INIT tx)', 'store.insert>', 'store.insert<'],
  ['state.setStatus(queued)', 'state.setStatus:queued>', 'state.setStatus:queued<'],
  ['state.enqueue', 'state.enqueue>', 'state.enqueue<'],
  ['worker wake-up (enqueued → claimed)', 'state.enqueue<', 'state.claim<'],
  ['state.acquireLock', 'state.acquireLock>', 'state.acquireLock<'],
  ['store.get (worker)', 'store.get>', 'store.get<'],
  ['PROCESS (get + tx + cache)', 'store.get<', 'state.setStatus:processing<'],
  ['dagClient.diff', 'dag.diff>', 'dag.diff<'],
  ['COMPLETE (toStoredDiff + get + tx with the diff + cache)', 'dag.diff<', 'state.setStatus:completed<'],
  ['  of which store.transition(COMPLETE)', 'store.transition:COMPLETE>', 'store.transition:COMPLETE<'],
  ['settle → submit() resolves', 'state.setStatus:completed<', 'submit<'],
  ['intake.submit total', 'submit>', 'submit<'],
];

/**
 * Times every adapter call of a Gateway (a Proxy per adapter) and every `intake.submit`, keyed by
 * strategy id, to split a submission into phases. Adds a few µs per call.
 */
export class PhaseRecorder {
  private readonly marks = new Map<string, Map<string, number>>();
  private readonly calls = new Map<string, number[]>();
  private readonly http = { parse: [] as number[], server: [] as number[] };

  readonly wrap = <T extends object>(prefix: string, target: T): T =>
    new Proxy(target, {
      get: (object, property) => {
        const value: unknown = Reflect.get(object, property);
        if (typeof value !== 'function' || typeof property !== 'string') return value;
        return (...args: unknown[]): unknown => {
          const t0 = performance.now();
          const out: unknown = (value as (...a: unknown[]) => unknown).apply(object, args);
          if (!(out instanceof Promise)) return out;
          return out.then((resolved: unknown) => {
            this.record(prefix, property, args, resolved, t0, performance.now());
            return resolved;
          });
        };
      },
    });

  /** Wraps the Gateway's intake and adds HTTP hooks (before `listen`). */
  attach(gateway: Gateway): void {
    const submit = gateway.intake.submit.bind(gateway.intake);
    gateway.intake.submit = async (body) => {
      const t0 = performance.now();
      const reply = await submit(body);
      this.mark(reply.strategy_id, 'submit>', t0);
      this.mark(reply.strategy_id, 'submit<', performance.now());
      return reply;
    };
    const started = new WeakMap<object, number>();
    // Callback-style hooks: an async hook without an await is a lint error.
    gateway.app.addHook('onRequest', (request, _reply, done) => {
      started.set(request, performance.now());
      done();
    });
    gateway.app.addHook('preHandler', (request, _reply, done) => {
      this.http.parse.push(performance.now() - (started.get(request) ?? NaN));
      done();
    });
    gateway.app.addHook('onResponse', (request, _reply, done) => {
      this.http.server.push(performance.now() - (started.get(request) ?? NaN));
      done();
    });
  }

  private record(
    prefix: string,
    method: string,
    args: unknown[],
    out: unknown,
    t0: number,
    t1: number,
  ): void {
    let label = `${prefix}.${method}`;
    if (method === 'setStatus') label += `:${String(args[1])}`;
    if (method === 'transition' && prefix === 'store') label += `:${String(args[3])}`;
    const calls = this.calls.get(label) ?? [];
    calls.push(t1 - t0);
    this.calls.set(label, calls);
    const id = method === 'claim' ? out : method === 'insert' ? (args[0] as { id: string }).id : args[0];
    if (typeof id !== 'string') return;
    this.mark(id, `${label}>`, t0);
    this.mark(id, `${label}<`, t1);
  }

  private mark(id: string, label: string, t: number): void {
    const marks = this.marks.get(id) ?? new Map<string, number>();
    this.marks.set(id, marks);
    if (!marks.has(label)) marks.set(label, t);
  }

  /** Prints p50/p95 of every phase over `ids`, and of every adapter call. */
  print(ids: readonly (string | null)[], latencies: readonly (number | null)[]): void {
    const row = (name: string, values: number[]): void => {
      values.sort((a, b) => a - b);
      const [p50, p95, p99] = [0.5, 0.95, 0.99].map((p) => ms(percentile(values, p)));
      console.log(`| ${name} | ${values.length} | ${p50} | ${p95} | ${p99} | ${ms(values.at(-1) ?? NaN)} |`);
    };
    console.log(
      '| phase (Gateway process) | n | p50 ms | p95 ms | p99 ms | max ms |\n|---|---|---|---|---|---|',
    );
    row('HTTP: onRequest → preHandler (body read + JSON parse)', [...this.http.parse]);
    for (const [name, from, to] of PHASES) {
      const values: number[] = [];
      for (const id of ids) {
        const marks = id === null ? undefined : this.marks.get(id);
        const a = marks?.get(from);
        const b = marks?.get(to);
        if (a !== undefined && b !== undefined) values.push(b - a);
      }
      row(name, values);
    }
    row('HTTP: onRequest → onResponse (server total)', [...this.http.server]);
    const outside: number[] = [];
    ids.forEach((id, i) => {
      const marks = id === null ? undefined : this.marks.get(id);
      const latency = latencies[i];
      const a = marks?.get('submit>');
      const b = marks?.get('submit<');
      if (a !== undefined && b !== undefined && latency != null) outside.push(latency - (b - a));
    });
    row('client latency − intake.submit (HTTP, client, scheduling)', outside);
    console.log('\n| adapter call | calls | p50 ms | p95 ms | p99 ms | max ms |\n|---|---|---|---|---|---|');
    for (const [label, values] of [...this.calls].sort(([a], [b]) => a.localeCompare(b))) row(label, values);
  }
}
