import { describe, expect, it } from 'vitest';
import { tagListOf } from './tag-list.js';

describe('tagListOf', () => {
  it('reads a list of strings or a comma-separated string, dropping blanks', () => {
    expect(tagListOf(['a', 'b'])).toEqual(['a', 'b']);
    expect(tagListOf(' btc, ,price ')).toEqual(['btc', 'price']);
    expect(tagListOf('')).toEqual([]);
  });

  it('drops empty tags from a list too (found by the fuzz test)', () => {
    expect(tagListOf(['', 'btc', ''])).toEqual(['btc']);
  });

  it('is null for anything else', () => {
    expect(tagListOf(['a', 1])).toBeNull();
    expect(tagListOf(3)).toBeNull();
    expect(tagListOf(undefined)).toBeNull();
  });
});
