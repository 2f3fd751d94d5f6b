import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../common/errors.js';
import { MemoryStrategyStore } from './memory-strategy-store.js';
import { testStrategy, testStrategyStoreContract } from './strategy-store.contract.test-kit.js';

testStrategyStoreContract('memory', () => Promise.resolve(new MemoryStrategyStore()));

describe('MemoryStrategyStore', () => {
  it('keeps its own copies: changing an inserted or returned object changes nothing stored', async () => {
    const store = new MemoryStrategyStore();
    const meta = { tags: ['a'] };
    await store.insert(testStrategy('a', { meta }));
    meta.tags.push('mutated');
    const read = await store.get('strategy-a');
    (read?.meta?.['tags'] as string[]).push('mutated too');
    expect((await store.get('strategy-a'))?.meta).toEqual({ tags: ['a'] });
  });

  it('refuses meta that JSON cannot hold', async () => {
    const store = new MemoryStrategyStore();
    await expect(store.insert(testStrategy('a', { meta: { big: 1n } }))).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
    });
    expect(await store.get('strategy-a')).toBeNull();
  });
});
