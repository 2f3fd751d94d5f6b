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
  });
});
