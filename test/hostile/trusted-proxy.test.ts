import { describe, expect, test } from 'vitest';
import { announceSkips, backends } from '../helpers/backends.js';
import { useService } from '../helpers/context.js';

announceSkips('trusted proxy');

/**
 * TRUST_PROXY names the proxies whose X-Forwarded-For is believed (README "Behind nginx"). The
 * client is the first address from the right that is not a trusted proxy, so a client behind
 * the proxy is limited by its real address, and a header sent by anyone else changes nothing.
 */

const PROXY = '10.0.0.5';
const LIMIT = 3;

describe.each(backends)('trusted proxy on $name', (backend) => {
  const service = useService(backend, {
    env: { RATE_LIMIT_PER_MINUTE: String(LIMIT), TRUST_PROXY: `${PROXY},192.168.0.0/16` },
  });

  /** Statuses of `n` address-keyed requests from `remoteAddress`, each with the given X-Forwarded-For. */
  async function statuses(remoteAddress: string, forwardedFor: (i: number) => string | undefined, n: number) {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const xff = forwardedFor(i);
      const res = await service().app.inject({
        method: 'GET',
        url: '/api/v1/concerts',
        remoteAddress,
        headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
      });
      out.push(res.statusCode);
    }
    return out;
  }

  test('when clients reach the service through a trusted proxy, then each is limited by its own address, not the proxy’s', async () => {
    expect(await statuses(PROXY, () => '203.0.113.7', LIMIT + 1)).toEqual([200, 200, 200, 429]);
    // Another client through the same proxy has a budget of its own.
    expect(await statuses(PROXY, () => '203.0.113.8', 1)).toEqual([200]);
    // A chain through two trusted proxies (a CIDR entry) still ends at the first client.
    expect(await statuses(PROXY, () => '203.0.113.7, 192.168.1.1', 1)).toEqual([429]);
  });

  test('when a client forges X-Forwarded-For, then it buys nothing: from an untrusted address the header is ignored, through the proxy only the proxy’s own entry counts', async () => {
    // Straight from an untrusted address, a fresh forged header on every request.
    expect(await statuses('198.51.100.9', (i) => `203.0.113.${100 + i}`, LIMIT + 2)).toEqual([
      200, 200, 200, 429, 429,
    ]);
    // Through the trusted proxy, which appends the address it saw: the forged entries on the left
    // are the client's own words, and the client is the rightmost untrusted address.
    expect(await statuses(PROXY, (i) => `203.0.113.${150 + i}, 198.51.100.20`, LIMIT + 2)).toEqual([
      200, 200, 200, 429, 429,
    ]);
  });

  test('when the proxy itself sends requests, then they are its own address’s, not those of a client it named before', async () => {
    expect(await statuses(PROXY, () => undefined, LIMIT + 1)).toEqual([200, 200, 200, 429]);
    expect(await statuses(PROXY, () => '203.0.113.50', 1)).toEqual([200]);
  });
});
