import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { InProcessSeatVersions } from '../../src/concerts/seat-changes.js';
import { MAX_AGE_MS, type Rendered, SeatReadCache } from '../../src/concerts/seat-read-cache.js';

const CONCERT = 'c1';

/** A renderer that counts its calls; what it renders before `lapse` is valid until then. */
function counting(lapse = Number.POSITIVE_INFINITY) {
  let renders = 0;
  const render = async (now: number): Promise<Rendered> => {
    renders++;
    await new Promise((r) => setTimeout(r, 5));
    return {
      json: JSON.stringify({ renders, now }),
      validUntil: now < lapse ? lapse : Number.POSITIVE_INFINITY,
    };
  };
  return { render, count: () => renders };
}

describe('seat read cache', () => {
  test('when 100 readers ask at once, then one rendering answers them all', async () => {
    const cache = new SeatReadCache(new InProcessSeatVersions());
    const r = counting();
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => cache.read(CONCERT, 'k', 0, r.render)),
    );
    expect(r.count()).toBe(1);
    expect(new Set(answers).size).toBe(1);
  });

  test('when a change is announced, then the next read renders again, and only for that concert', async () => {
    const cache = new SeatReadCache(new InProcessSeatVersions());
    const r = counting();
    await cache.read(CONCERT, 'k', 0, r.render);
    await cache.read('c2', 'k', 0, r.render);
    await cache.changed(CONCERT);
    await cache.read(CONCERT, 'k', 0, r.render);
    await cache.read('c2', 'k', 0, r.render);
    expect(r.count()).toBe(3);
  });

  test('when an answer reaches its validUntil or MAX_AGE_MS, then readers render it again once', async () => {
    const cache = new SeatReadCache(new InProcessSeatVersions());
    const lapsing = counting(500);
    await cache.read(CONCERT, 'a', 0, lapsing.render);
    await cache.read(CONCERT, 'a', 499, lapsing.render);
    expect(lapsing.count()).toBe(1);
    await Promise.all(Array.from({ length: 20 }, () => cache.read(CONCERT, 'a', 500, lapsing.render)));
    expect(lapsing.count()).toBe(2);

    const aging = counting();
    await cache.read(CONCERT, 'b', 0, aging.render);
    await cache.read(CONCERT, 'b', MAX_AGE_MS - 1, aging.render);
    expect(aging.count()).toBe(1);
    await cache.read(CONCERT, 'b', MAX_AGE_MS, aging.render);
    expect(aging.count()).toBe(2);
  });

  test('when a rendering fails, then its readers see the error and the next reader renders again', async () => {
    const cache = new SeatReadCache(new InProcessSeatVersions());
    let fail = true;
    const render = async (now: number): Promise<Rendered> => {
      if (fail) throw new Error('database gone');
      return { json: String(now), validUntil: Number.POSITIVE_INFINITY };
    };
    await expect(cache.read(CONCERT, 'k', 0, render)).rejects.toThrow('database gone');
    fail = false;
    expect((await cache.read(CONCERT, 'k', 1, render)).json).toBe('1');
  });

  test('when an answer is asked for in br or gzip, then it is compressed once per rendering and decodes to its JSON', async () => {
    const cache = new SeatReadCache(new InProcessSeatVersions());
    const json = JSON.stringify({ seats: Array.from({ length: 500 }, (_, i) => ({ seatNumber: i + 1 })) });
    const answer = await cache.read(CONCERT, 'k', 0, async () => ({
      json,
      validUntil: Number.POSITIVE_INFINITY,
    }));
    const [br, again, gzip] = await Promise.all([
      answer.compressed('br'),
      answer.compressed('br'),
      answer.compressed('gzip'),
    ]);
    expect(again).toBe(br); // the same bytes, not a second compression
    expect(brotliDecompressSync(br).toString('utf8')).toBe(json);
    expect(gunzipSync(gzip).toString('utf8')).toBe(json);
    expect(br.length).toBeLessThan(json.length);
    // The next reader of the same version gets the same answer, compressed forms included.
    expect(await cache.read(CONCERT, 'k', 1, async () => ({ json: 'other', validUntil: 0 }))).toBe(answer);
  });

  test('when an answer is rendered again only because its time ran out, then unchanged bytes keep their compressed forms', async () => {
    const cache = new SeatReadCache(new InProcessSeatVersions());
    const json = JSON.stringify({ seats: Array.from({ length: 500 }, (_, i) => ({ seatNumber: i + 1 })) });
    const same = async () => ({ json, validUntil: Number.POSITIVE_INFINITY });
    const first = await cache.read(CONCERT, 'k', 0, same);
    const br = await first.compressed('br');
    const renewed = await cache.read(CONCERT, 'k', MAX_AGE_MS, same);
    expect(renewed).not.toBe(first); // rendered again: the age ran out
    expect(renewed.validUntil).toBe(2 * MAX_AGE_MS);
    expect(await renewed.compressed('br')).toBe(br); // not compressed again
    const changed = await cache.read(CONCERT, 'k', 2 * MAX_AGE_MS, async () => ({
      json: `${json} `,
      validUntil: Number.POSITIVE_INFINITY,
    }));
    expect(await changed.compressed('br')).not.toBe(br);
  });
});
