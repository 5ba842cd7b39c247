import { describe, expect, it } from 'vitest';
import { FenwickTree } from '../../src/queue/fenwick.js';

/** The obvious O(n) answer the tree must agree with. */
function naivePrefix(values: Map<number, number>, index: number): number {
  let sum = 0;
  for (const [i, v] of values) if (i <= index) sum += v;
  return sum;
}

describe('FenwickTree', () => {
  it('when nothing was added, then every prefix is 0', () => {
    const tree = new FenwickTree();
    expect(tree.prefix(0)).toBe(0);
    expect(tree.prefix(1)).toBe(0);
    expect(tree.prefix(5_000)).toBe(0);
  });

  it('when tickets are marked and unmarked, then a prefix counts the marks up to that ticket', () => {
    const tree = new FenwickTree();
    for (const ticket of [1, 2, 3, 5, 8]) tree.add(ticket, 1);
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => tree.prefix(i))).toEqual([1, 2, 3, 3, 4, 4, 4, 5, 5]);
    tree.add(2, -1);
    tree.add(5, -1);
    expect([1, 2, 3, 4, 5, 8].map((i) => tree.prefix(i))).toEqual([1, 1, 2, 2, 2, 3]);
    expect(tree.prefix(0)).toBe(0);
  });

  it('when an index beyond the current size is added, then the tree grows and keeps earlier sums', () => {
    const tree = new FenwickTree();
    tree.add(1, 1);
    tree.add(1_023, 1);
    tree.add(100_000, 1); // far past the initial 1024 slots: several doublings at once
    tree.add(1_024, 1);
    expect(tree.prefix(1)).toBe(1);
    expect(tree.prefix(1_022)).toBe(1);
    expect(tree.prefix(1_023)).toBe(2);
    expect(tree.prefix(1_024)).toBe(3);
    expect(tree.prefix(99_999)).toBe(3);
    expect(tree.prefix(100_000)).toBe(4);
  });

  it('when a prefix is asked past the largest index, then it is the total', () => {
    const tree = new FenwickTree();
    tree.add(10, 3);
    tree.add(20, 4);
    expect(tree.prefix(1_000_000)).toBe(7);
  });

  it('when random marks come and go, then every prefix matches a plain sum', () => {
    let seed = 42;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const tree = new FenwickTree();
    const values = new Map<number, number>();
    for (let step = 0; step < 2_000; step++) {
      const index = 1 + Math.floor(next() * 3_000);
      const delta = next() < 0.7 ? 1 : -1;
      tree.add(index, delta);
      values.set(index, (values.get(index) ?? 0) + delta);
    }
    for (let index = 0; index <= 3_100; index += 37) {
      expect(tree.prefix(index), `prefix(${index})`).toBe(naivePrefix(values, index));
    }
  });
});
