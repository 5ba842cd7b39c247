import { describe, expect, test } from 'vitest';
import { SeatTurns, type TurnVerdict } from '../../src/reservations/seat-turns.js';

/** An attempt the test settles by hand, as a database call would settle later. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Attempts that each wait for the test to settle them, in the order they were made. */
function recordedAttempts() {
  const calls: ReturnType<typeof deferred<TurnVerdict>>[] = [];
  const attempt = () => {
    const call = deferred<TurnVerdict>();
    calls.push(call);
    return call.promise;
  };
  return { calls, attempt };
}

const asVerdict = (v: TurnVerdict) => v;
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('holds of one seat taking turns', () => {
  test('when 200 buyers press one seat and the first attempt holds it, then one attempt is made and the other 199 are told it is taken', async () => {
    const turns = new SeatTurns();
    const first = deferred<TurnVerdict>();
    let attempts = 0;
    const answers = Array.from({ length: 200 }, () =>
      turns.take(
        'show:1',
        () => {
          attempts++;
          return first.promise;
        },
        asVerdict,
      ),
    );
    await flush();
    expect(attempts).toBe(1);
    first.resolve('HELD');
    const settled = await Promise.all(answers);
    expect(settled.filter((a) => a === 'HELD')).toHaveLength(1);
    expect(settled.filter((a) => a === 'TAKEN')).toHaveLength(199);
    expect(turns.size).toBe(0);
  });

  test('when the first attempt finds the seat taken before the others arrived, then one more attempt answers everyone who came later', async () => {
    const turns = new SeatTurns();
    const { calls, attempt } = recordedAttempts();
    const early = turns.take('show:1', attempt, asVerdict);
    const later = Array.from({ length: 50 }, () => turns.take('show:1', attempt, asVerdict));
    await flush();
    expect(calls).toHaveLength(1);
    // Read before the 50 arrived: a cancellation in between could have freed the seat.
    calls[0]!.resolve('UNAVAILABLE');
    expect(await early).toBe('UNAVAILABLE');
    await flush();
    expect(calls).toHaveLength(2);
    calls[1]!.resolve('UNAVAILABLE');
    const settled = await Promise.all(later);
    expect(settled.filter((a) => a === 'UNAVAILABLE')).toHaveLength(1);
    expect(settled.filter((a) => a === 'TAKEN')).toHaveLength(49);
  });

  test('when an attempt says nothing about the seat (its buyer is at their limit) or fails, then the next buyer tries for themselves', async () => {
    const turns = new SeatTurns();
    const { calls, attempt } = recordedAttempts();
    const answers = Promise.allSettled(
      Array.from({ length: 3 }, () => turns.take('show:1', attempt, asVerdict)),
    );
    const other = turns.take('show:2', attempt, asVerdict); // another seat: its own turn
    await flush();
    expect(calls).toHaveLength(2);
    calls[0]!.resolve('UNKNOWN');
    calls[1]!.resolve('HELD');
    await flush();
    expect(calls).toHaveLength(3);
    calls[2]!.reject(new Error('connection lost'));
    await flush();
    expect(calls).toHaveLength(4);
    calls[3]!.resolve('HELD');
    const [a, b, c] = await answers;
    expect(a).toEqual({ status: 'fulfilled', value: 'UNKNOWN' });
    expect(b).toMatchObject({ status: 'rejected' });
    expect(c).toEqual({ status: 'fulfilled', value: 'HELD' });
    expect(await other).toBe('HELD');
  });
});
