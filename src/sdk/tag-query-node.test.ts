import { describe, expect, it } from 'vitest';
import { TagQueryNode } from './tag-query-node.js';

describe('TagQueryNode', () => {
  it('is identified by sorted query tags, match mode, interval and period', () => {
    const a = new TagQueryNode({ queryTags: ['b', 'a'], interval: '1h', period: 24 });
    expect(new TagQueryNode({ queryTags: ['a', 'b'], interval: 3600, period: 24 }).nodeId).toBe(a.nodeId);
    expect(
      new TagQueryNode({ queryTags: ['a', 'b'], interval: 3600, period: 24, matchMode: 'all' }).nodeId,
    ).not.toBe(a.nodeId);
    expect(new TagQueryNode({ queryTags: ['a'], interval: 3600, period: 24 }).nodeId).not.toBe(a.nodeId);
  });

  it('serialises query_tags and match_mode', () => {
    const json = new TagQueryNode({ queryTags: ['ta'], interval: 60, period: 5, matchMode: 'all' }).toJSON();
    expect(json).toMatchObject({
      node_type: 'TagQueryNode',
      query_tags: ['ta'],
      match_mode: 'all',
      inputs: [],
    });
  });

  it('reports the queues added and removed by an update', () => {
    const node = new TagQueryNode({ queryTags: ['ta'], interval: 60, period: 5 });
    expect(node.updateQueues(['q1', 'q2'])).toEqual({ added: ['q1', 'q2'], removed: [] });
    expect(node.updateQueues(['q2', 'q3'])).toEqual({ added: ['q3'], removed: ['q1'] });
    expect(node.queues).toEqual(['q2', 'q3']);
  });

  it('rejects empty tags, bad match modes and missing interval or period', () => {
    expect(() => new TagQueryNode({ queryTags: [], interval: 60, period: 1 })).toThrow(/at least one tag/);
    expect(
      () => new TagQueryNode({ queryTags: ['a'], interval: 60, period: 1, matchMode: 'some' as never }),
    ).toThrow(/matchMode must be "any" or "all", got "some"/);
    expect(() => new TagQueryNode({ queryTags: ['a'], period: 1 } as never)).toThrow(/interval is required/);
    expect(() => new TagQueryNode({ queryTags: ['a'], interval: 60 } as never)).toThrow(/period is required/);
  });
});
