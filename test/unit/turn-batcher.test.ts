import { describe, expect, test } from 'vitest';
import { TurnBatcher, type TurnScheduler } from '../../src/shared/turn-batcher.js';

/**
 * TurnBatcher with the end of the turn in the test's hands: a scheduler that holds the flush
 * until `endTurn()`, so "these calls share one batch" is exact, whatever the machine's load.
 */
function turns() {
  let held: (() => void)[] = [];
  const schedule: TurnScheduler = (flush) => {
    held.push(flush);
  };
  return {
    schedule,
    /** How many flushes wait for the turn to end (one per turn with calls in it). */
    waiting: () => held.length,
    endTurn() {
      const flushes = held;
      held = [];
      for (const flush of flushes) flush();
    },
  };
}

/** A store whose batch call records what it got and answers each item with `key:item`. */
function store() {
  const calls: { key: string; items: number[] }[] = [];
  let failWith: unknown;
  return {
    calls,
    failNext(error: unknown) {
      failWith = error;
    },
    send: async (key: string, items: number[]): Promise<string[]> => {
      calls.push({ key, items: [...items] });
      if (failWith !== undefined) {
        const error = failWith;
        failWith = undefined;
        throw error;
      }
      return items.map((item) => `${key}:${item}`);
    },
  };
}

describe('TurnBatcher', () => {
  test('when 100 calls for one key arrive in one turn, then the store gets exactly one call, with the items in order, and each caller its own answer', async () => {
    const turn = turns();
    const s = store();
    const batcher = new TurnBatcher(s.send, 500, turn.schedule);

    const answers = Array.from({ length: 100 }, (_, i) => batcher.add('c1', i));
    // Nothing leaves before the turn ends, and the turn is scheduled once, not once per call.
    expect(s.calls).toEqual([]);
    expect(turn.waiting()).toBe(1);

    turn.endTurn();
    expect(await Promise.all(answers)).toEqual(Array.from({ length: 100 }, (_, i) => `c1:${i}`));
    expect(s.calls).toEqual([{ key: 'c1', items: Array.from({ length: 100 }, (_, i) => i) }]);
  });

  test('when a batch fails, then every caller in it gets that error, and the next turn works again', async () => {
    const turn = turns();
    const s = store();
    const batcher = new TurnBatcher(s.send, 500, turn.schedule);
    const down = new Error('connect ECONNREFUSED');
    s.failNext(down);

    const failed = [1, 2, 3].map((i) =>
      batcher.add('c1', i).then(
        () => 'answered',
        (error: unknown) => error,
      ),
    );
    turn.endTurn();
    expect(await Promise.all(failed)).toEqual([down, down, down]);

    const next = batcher.add('c1', 4);
    turn.endTurn();
    expect(await next).toBe('c1:4');
    expect(s.calls).toEqual([
      { key: 'c1', items: [1, 2, 3] },
      { key: 'c1', items: [4] },
    ]);
  });

  test('when calls arrive in the next turn, then they make a second batch, sent after the first', async () => {
    const turn = turns();
    const s = store();
    const batcher = new TurnBatcher(s.send, 500, turn.schedule);

    const first = [batcher.add('c1', 1), batcher.add('c1', 2)];
    turn.endTurn();
    const second = [batcher.add('c1', 3), batcher.add('c1', 4), batcher.add('c1', 5)];
    expect(turn.waiting()).toBe(1);
    turn.endTurn();

    expect(await Promise.all([...first, ...second])).toEqual(['c1:1', 'c1:2', 'c1:3', 'c1:4', 'c1:5']);
    expect(s.calls).toEqual([
      { key: 'c1', items: [1, 2] },
      { key: 'c1', items: [3, 4, 5] },
    ]);
  });

  test('when one turn has calls for two keys, then each key gets one call of its own', async () => {
    const turn = turns();
    const s = store();
    const batcher = new TurnBatcher(s.send, 500, turn.schedule);

    const answers = [batcher.add('a', 1), batcher.add('b', 2), batcher.add('a', 3), batcher.add('b', 4)];
    turn.endTurn();
    expect(await Promise.all(answers)).toEqual(['a:1', 'b:2', 'a:3', 'b:4']);
    expect(s.calls).toEqual([
      { key: 'a', items: [1, 3] },
      { key: 'b', items: [2, 4] },
    ]);
  });

  test('when a turn holds more than maxBatch calls, then each full batch leaves at once and the rest at the end of the turn', async () => {
    const turn = turns();
    const s = store();
    const batcher = new TurnBatcher(s.send, 3, turn.schedule);

    const answers = Array.from({ length: 7 }, (_, i) => batcher.add('c1', i));
    expect(s.calls).toEqual([
      { key: 'c1', items: [0, 1, 2] },
      { key: 'c1', items: [3, 4, 5] },
    ]);
    turn.endTurn();
    expect(await Promise.all(answers)).toEqual(Array.from({ length: 7 }, (_, i) => `c1:${i}`));
    expect(s.calls[2]).toEqual({ key: 'c1', items: [6] });
    expect(s.calls).toHaveLength(3);
  });

  test('when the store answers fewer results than items, then the callers left without one are rejected', async () => {
    const turn = turns();
    const batcher = new TurnBatcher(
      async (_key: string, items: number[]) => items.slice(0, 1),
      500,
      turn.schedule,
    );

    const answers = [1, 2].map((i) => batcher.add('c1', i).catch((error: Error) => error.message));
    turn.endTurn();
    expect(await Promise.all(answers)).toEqual([1, 'a batch of 2 got 1 results']);
  });

  test('with the default scheduler, when calls are made in one synchronous run, then they share one batch, and a call made after it is answered goes in a second', async () => {
    const s = store();
    const batcher = new TurnBatcher(s.send, 500);

    // No turn can end inside synchronous code, so this is one turn on any machine.
    const answers = Array.from({ length: 50 }, (_, i) => batcher.add('c1', i));
    expect(s.calls).toEqual([]);
    expect(await Promise.all(answers)).toHaveLength(50);
    expect(await batcher.add('c1', 50)).toBe('c1:50');
    expect(s.calls).toEqual([
      { key: 'c1', items: Array.from({ length: 50 }, (_, i) => i) },
      { key: 'c1', items: [50] },
    ]);
  });
});
