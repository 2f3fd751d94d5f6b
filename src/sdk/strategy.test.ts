import { describe, expect, it } from 'vitest';
import { validateDag } from '../dag/validate-dag.js';
import { ProcessingNode } from './processing-node.js';
import { StreamInput } from './stream-input.js';
import { Strategy } from './strategy.js';

const passThrough = (view: { input(): { latest(): unknown } }) => view.input().latest();

class Defaults extends Strategy {
  constructor() {
    super({ defaultInterval: '1m', defaultPeriod: 30 });
  }
  setup(): void {
    const price = new StreamInput({ tags: ['x'] });
    const explicit = new ProcessingNode({ input: price, computeFn: passThrough, interval: 300, period: 5 });
    this.addNodes([price, explicit]);
  }
}

describe('Strategy', () => {
  it('fills unset interval and period from its defaults and keeps explicit ones', () => {
    const strategy = new Defaults().prepare();
    const [price, explicit] = strategy.nodes;
    expect([price!.interval, price!.period]).toEqual([60, 30]);
    expect([explicit!.interval, explicit!.period]).toEqual([300, 5]);
  });

  it('raises from prepare() listing every node without interval or period', () => {
    class Missing extends Strategy {
      setup(): void {
        this.addNodes([
          new StreamInput({ tags: ['a'], name: 'a' }),
          new StreamInput({ tags: ['b'], name: 'b', interval: 60 }),
        ]);
      }
    }
    expect(() => new Missing().prepare()).toThrow(
      /"a": interval not specified[\s\S]*"a": period not specified[\s\S]*"b": period not specified/,
    );
  });

  it('rejects an input that was not added, naming both nodes', () => {
    class Unknown extends Strategy {
      setup(): void {
        const price = new StreamInput({ tags: ['a'], name: 'price', interval: 60, period: 1 });
        this.addNodes(
          new ProcessingNode({
            name: 'signal',
            input: price,
            computeFn: passThrough,
            interval: 60,
            period: 1,
          }),
        );
      }
    }
    expect(() => new Unknown().prepare()).toThrow(
      /ProcessingNode "signal" references input StreamInput "price" that was not added/,
    );
  });

  it('serialises a valid DAG in topological order whatever the add order, one entry per NodeID', () => {
    class Reversed extends Strategy {
      setup(): void {
        const price = new StreamInput({ tags: ['a'], interval: 60, period: 1 });
        const a = new ProcessingNode({
          name: 'a',
          input: price,
          computeFn: passThrough,
          interval: 60,
          period: 1,
        });
        const twin = new ProcessingNode({
          name: 'twin',
          input: price,
          computeFn: passThrough,
          interval: 60,
          period: 1,
        });
        const b = new ProcessingNode({
          name: 'b',
          input: a,
          computeFn: passThrough,
          interval: 60,
          period: 1,
        });
        this.addNodes([b, twin, a, price]);
      }
    }
    const dag = new Reversed().serialize();
    expect(dag.nodes.map((n) => n.name)).toEqual(['stream_input', 'twin', 'b']);
    expect(validateDag(dag).problems).toEqual([]);
  });

  it('refuses to change a shared node that the defaults of an earlier strategy filled', () => {
    const withShared = (shared: StreamInput, interval: string) =>
      new (class extends Strategy {
        setup(): void {
          this.addNodes(shared);
        }
      })({ defaultInterval: interval, defaultPeriod: 1 });
    const shared = new StreamInput({ tags: ['btc'], name: 'shared' });
    expect(withShared(shared, '1m').prepare().nodes[0]!.interval).toBe(60);
    expect(() => withShared(shared, '5m').prepare()).toThrow(
      /StreamInput "shared": interval 60 came from the defaults of strategy ".*", so this strategy's default interval 300 cannot apply/,
    );
    // The same default again is no conflict, and the node kept the first strategy's interval.
    expect(withShared(shared, '60s').prepare().nodes[0]!.interval).toBe(60);
    expect(shared.interval).toBe(60);
  });

  it('runs setup once however often it is prepared', () => {
    let calls = 0;
    class Once extends Strategy {
      setup(): void {
        calls++;
        this.addNodes(new StreamInput({ tags: ['a'], interval: 60, period: 1 }));
      }
    }
    const strategy = new Once();
    strategy.prepare().prepare();
    strategy.serialize();
    expect(calls).toBe(1);
  });

  it('rejects bad defaults and non-node items', () => {
    class Empty extends Strategy {
      setup(): void {}
    }
    expect(
      () =>
        new (class extends Empty {
          constructor() {
            super({ defaultInterval: 'soon' });
          }
        })(),
    ).toThrow(/defaultInterval must look like/);
    expect(() => new Empty({ defaultPeriod: 0 })).toThrow(/defaultPeriod must be a positive integer/);
    expect(() => new Empty().addNodes([{}] as never)).toThrow(/item 0 is not a node/);
    expect(() => new Empty(null as never)).toThrow(/options must be an object, got null/);
    expect(() => new Empty({ interval: '1m' } as never)).toThrow(
      /unknown option "interval" \(known: defaultInterval, defaultPeriod; a node's interval and period are set on the node\)/,
    );
  });

  it('names the strategy when setup() throws, keeping the original error as the cause', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'foo')");
    class Broken extends Strategy {
      setup(): void {
        throw bug;
      }
    }
    const error = (() => {
      try {
        new Broken().prepare();
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toBe(`strategy "Broken" setup() failed: ${bug.message}`);
    expect(error?.cause).toBe(bug);
    class BadNode extends Strategy {
      setup(): void {
        this.addNodes(new StreamInput({ tags: ['x'], interval: 'soon' }));
      }
    }
    expect(() => new BadNode().prepare()).toThrow(
      expect.objectContaining({
        code: 'QMTL_INVALID_INTERVAL',
        message: expect.stringMatching(
          /^strategy "BadNode" setup\(\) failed: StreamInput "stream_input": interval must look like/,
        ),
      }),
    );
  });
});
