import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('settings', () => {
  test('when nothing is set, then the defaults of API.md apply', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir: './data',
      redisUrl: undefined,
      adminKey: undefined,
      holdTtlMs: 300_000,
      queueActiveTtlMs: 600_000,
      queueMaxActive: 100,
      queueAdmitPerSecond: 20,
      queueIdleTimeoutMs: 60_000,
      maxHoldsPerUser: 4,
      seedDemo: true,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  test('when durations have decimals, then they are honoured to the millisecond', () => {
    const c = loadConfig({
      HOLD_TTL_SECONDS: '0.5',
      QUEUE_ACTIVE_TTL_SECONDS: '1.25',
      QUEUE_IDLE_TIMEOUT_SECONDS: '2',
    });
    expect([c.holdTtlMs, c.queueActiveTtlMs, c.queueIdleTimeoutMs]).toEqual([500, 1250, 2000]);
  });

  test.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ HOLD_TTL_SECONDS: '0' }, 'HOLD_TTL_SECONDS'],
    [{ HOLD_TTL_SECONDS: '-1' }, 'HOLD_TTL_SECONDS'],
    [{ QUEUE_MAX_ACTIVE: '1.5' }, 'QUEUE_MAX_ACTIVE'],
    [{ QUEUE_ADMIT_PER_SECOND: '0' }, 'QUEUE_ADMIT_PER_SECOND'],
    [{ SEED_DEMO: 'maybe' }, 'SEED_DEMO'],
    [{ DATABASE_URL: 'mysql://x', AUTH_SECRET: 'a'.repeat(32) }, 'DATABASE_URL'],
    [{ REDIS_URL: 'not a url', AUTH_SECRET: 'a'.repeat(32) }, 'REDIS_URL'],
    [{ AUTH_SECRET: 'short' }, 'AUTH_SECRET'],
    [{ AUTH_SECRET: 's'.repeat(31) }, 'AUTH_SECRET'],
    [{ ADMIN_KEY: 'k'.repeat(15) }, 'ADMIN_KEY'],
    [{ METRICS_KEY: 'short' }, 'METRICS_KEY'],
    [{ REQUEST_TIMEOUT_SECONDS: '5', HEADERS_TIMEOUT_SECONDS: '10' }, 'HEADERS_TIMEOUT_SECONDS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ])('when %o is given, then start-up stops naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });

  test('when a shared store is configured without AUTH_SECRET, then start-up refuses: instances must agree on it', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(/AUTH_SECRET must be set/);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://localhost/x' })).toThrow(/AUTH_SECRET must be set/);
    const c = loadConfig({ DATABASE_URL: 'postgres://localhost/x', AUTH_SECRET: 's'.repeat(32) });
    expect(c.seedDemo).toBe(false); // the demo is for the embedded default only
  });

  test('when TRUST_PROXY lists addresses and CIDRs, then exactly those proxies are trusted; unset or false trusts none', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '127.0.0.1' }).trustProxy).toEqual(['127.0.0.1']);
    expect(loadConfig({ TRUST_PROXY: ' 127.0.0.1, 10.0.0.0/8 ,::1,fd00::/8' }).trustProxy).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
      '::1',
      'fd00::/8',
    ]);
  });

  test.each(['true', 'TRUE', '1', 'yes', '0.0.0.0/0', '::/0'])(
    'when TRUST_PROXY=%s would trust every hop, then start-up refuses and says to list the proxies',
    (value) => {
      // Every hop trusted: a client's forged X-Forwarded-For would choose its own rate-limit bucket.
      expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(ConfigError);
      expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(
        /TRUST_PROXY must list the proxies' addresses/,
      );
    },
  );

  test.each([
    'nginx',
    'loopback',
    '127.0.0.1,',
    '10.0.0.0/33',
    '10.0.0/8',
    '256.1.1.1',
    '10.0.0.1/8/8',
    '::1/129',
    '10.0.0.0/255.0.0.0',
    '127.0.0.1 10.0.0.1',
  ])('when TRUST_PROXY=%s is not a list of addresses or CIDRs, then start-up stops naming it', (value) => {
    expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(/TRUST_PROXY/);
  });
});
