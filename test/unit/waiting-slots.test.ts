import { describe, expect, it } from 'vitest';
import { Fenwick, WaitingSlots } from '../../src/queue/waiting-slots.js';

/** Deterministic pseudo-random numbers (mulberry32), so a failing run can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('Fenwick', () => {
  it('when built from counts and updated, then every prefix is the plain sum', () => {
    const counts = [3, 0, 5, 1, 0, 2, 7];
    const tree = new Fenwick(counts, 16);
    tree.add(4, 4);
    counts[4] = 4;
    for (let i = 0; i <= counts.length; i++) {
      expect(tree.before(i)).toBe(counts.slice(0, i).reduce((a, b) => a + b, 0));
    }
  });
});

describe('WaitingSlots', () => {
  it('when slots are added, removed and read at random, then ranks, users, times and the order agree with a plain set', () => {
    const next = random(11_2026);
    const slots = new WaitingSlots();
    const present = new Map<number, { user: string; seen: number }>();
    let last = 5_000; // not at a block boundary, as after a restart
    for (let step = 0; step < 6_000; step++) {
      const roll = next();
      if (roll < 0.5) {
        last += 1 + Math.floor(next() * 3);
        slots.add(last, `u${last}`, step);
        present.set(last, { user: `u${last}`, seen: step });
      } else if (roll < 0.8 && present.size > 0) {
        // Mostly from the front, as admissions do; sometimes anywhere, as leaves do.
        // A Map keeps insertion order, which is slot order here: its first key is the front.
        const keys = [...present.keys()];
        const slot = next() < 0.6 ? keys[0]! : keys[Math.floor(next() * keys.length)]!;
        slots.remove(slot);
        present.delete(slot);
      } else if (present.size > 0) {
        const keys = [...present.keys()];
        const slot = keys[Math.floor(next() * keys.length)]!;
        slots.touch(slot, step);
        present.get(slot)!.seen = step;
      }
      if (step % 297 === 0) {
        const sorted = [...present.keys()].sort((a, b) => a - b);
        expect(slots.size).toBe(sorted.length);
        expect(slots.first()).toBe(sorted[0]);
        sorted.forEach((slot, i) => {
          expect(slots.rank(slot)).toBe(i + 1);
          expect(slots.userAt(slot)).toBe(present.get(slot)!.user);
          expect(slots.seenAt(slot)).toBe(present.get(slot)!.seen);
        });
        const walked: number[] = [];
        for (let s = slots.next(-1); s !== undefined; s = slots.next(s)) walked.push(s);
        expect(walked).toEqual(sorted);
      }
    }
  });

  it('when a slot is not present, then it has no user, a zero time, and its rank counts those before it', () => {
    const slots = new WaitingSlots();
    for (const slot of [1023, 1024, 1025, 4096]) slots.add(slot, `u${slot}`, slot);
    slots.remove(1024);
    expect(slots.has(1024)).toBe(false);
    expect(slots.userAt(1024)).toBeUndefined();
    expect(slots.seenAt(1024)).toBe(0);
    expect(slots.rank(1024)).toBe(1);
    expect(slots.rank(3000)).toBe(2);
    expect(slots.rank(10_000)).toBe(3);
    expect(slots.next(1025)).toBe(4096);
  });

  it('when the front empties, then its blocks are let go and the line keeps working', () => {
    const slots = new WaitingSlots();
    for (let slot = 0; slot < 10_000; slot++) slots.add(slot, 'u', slot);
    for (let slot = 0; slot < 9_990; slot++) slots.remove(slot);
    expect(slots.size).toBe(10);
    expect(slots.first()).toBe(9_990);
    expect(slots.rank(9_999)).toBe(10);
    slots.add(20_000, 'late', 1);
    expect(slots.rank(20_000)).toBe(11);
  });
});
