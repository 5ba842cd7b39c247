/**
 * Malformed-request generators for the fuzz suite. Everything is drawn from a seeded PRNG,
 * so a failure names a seed and an index that reproduce it exactly.
 */

/** mulberry32: small, fast, and good enough to pick test cases. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    chance: (p: number) => next() < p,
    pick<T>(items: readonly T[]): T {
      return items[Math.floor(next() * items.length)] as T;
    },
  };
}
export type Rng = ReturnType<typeof prng>;

export function hashName(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff',
  'tail\ud83d',
  '\udc00head',
  '🎫',
  '\u202egnp.exe',
  '\ufeffbom',
  'x'.repeat(100_000),
  'y'.repeat(5_000),
  '<script>alert(1)</script>',
  "' OR '1'='1",
  '"; DROP TABLE users; --',
  '../../../etc/passwd',
  '%00',
  '%s%s%n',
  '\\',
  '\r\n\r\n',
  'null',
  'NaN',
  '-0',
  '1e309',
  '0x10',
  '١٢٣',
  ' 1',
  '{}',
];

export const NASTY_NUMBERS: readonly number[] = [
  0,
  -1,
  1.5,
  -0.0001,
  2 ** 31,
  2 ** 53,
  2 ** 63,
  1e21,
  -1e21,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  10_000_001,
  1_000_000_001,
  51,
  201,
];

export const NASTY_OTHER: readonly unknown[] = [
  null,
  true,
  false,
  {},
  [],
  [1],
  { a: 1 },
  JSON.parse('{"__proto__":{"admin":true}}'),
  { constructor: { prototype: { admin: true } } },
  [[[[[[[[]]]]]]]],
];

/** Lists of seat numbers or ids that break a rule of their own: repeats, bounds, length, kind. */
export const NASTY_LISTS: readonly unknown[] = [
  [],
  [1, 1],
  [0],
  [-1, 2],
  [1.5],
  ['1'],
  [null],
  [2 ** 31],
  [100_001],
  [1, 2, 3, 4, 5],
  Array.from({ length: 101 }, (_, i) => i + 1),
  Array.from({ length: 10_000 }, (_, i) => i + 1),
  [[1]],
  [{ seatNumber: 1 }],
];

/** Any value of the wrong kind, out of bounds, or carrying bad text. */
export function nastyValue(rng: Rng): unknown {
  const kind = rng.int(3);
  if (kind === 0) return rng.pick(NASTY_STRINGS);
  if (kind === 1) return rng.pick(NASTY_NUMBERS);
  return rng.pick(NASTY_OTHER);
}

export function uuidSpellings(id: string): string[] {
  return [
    id.toUpperCase(),
    `urn:uuid:${id}`,
    `{${id}}`,
    id.replaceAll('-', ''),
    ` ${id}`,
    `${id} `,
    `${id}0`,
    id.slice(0, -1),
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    crypto.randomUUID(),
    id.replace(/[0-9]/, '٣'),
    `${id}%00`,
    `${id.slice(0, 8)}%2d${id.slice(9)}`,
    '..',
    '%2e%2e',
    'a'.repeat(101),
    'b'.repeat(2_000),
    '%F0%9F%8E%AB',
    '%ED%A0%80', // an encoded lone surrogate: not valid UTF-8
    '%E0%A4%A',
  ];
}

export const DATE_SPELLINGS: readonly string[] = [
  '0000-01-01',
  '1999-12-31',
  '2100-01-01',
  '9999-12-31',
  '2026-02-30',
  '2026-13-01',
  '2026-00-10',
  '2026-1-1',
  '26-12-01',
  '+002026-12-01',
  '2026-12-01T00:00:00Z',
  '2026/12/01',
  ' 2026-12-01',
  '2026-12-01\u0000',
  '2000-01-01',
  '2099-12-31',
  '2030-06-15',
];

/** Bodies that are not well-formed JSON, or JSON no parser should be trusted with. */
export function rawBodies(rng: Rng): (string | Buffer)[] {
  const depth = 1 + rng.int(30_000);
  return [
    '{',
    '{"a":',
    '{"a":1,}',
    "{'a':1}",
    '{"a":NaN}',
    '{"a":1}{"b":2}',
    '// comment\n{}',
    '\ufeff{}',
    `${'['.repeat(depth)}${']'.repeat(depth)}`,
    `${'{"a":'.repeat(Math.min(depth, 10_000))}1${'}'.repeat(Math.min(depth, 10_000))}`,
    '{"a":"\\u0000"}',
    '{"a":"\\ud800"}',
    '{"\\u0000":1}',
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    'null',
    'true',
    '42',
    '"string"',
    '',
    Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]),
    Buffer.from([0xc3, 0x28, 0xa0, 0xa1]),
    Buffer.from('{"name":"\xc3\x28"}', 'latin1'),
    `{"n":${'9'.repeat(400)}}`,
  ];
}

export const CONTENT_TYPES: readonly string[] = [
  'application/json',
  'APPLICATION/JSON',
  'application/json; charset=utf-16',
  'application/json;;;',
  'application/vnd.api+json',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '*/*',
  'json',
  'application/json, text/plain',
];

export const ODD_HEADERS: readonly Record<string, string>[] = [
  { 'x-forwarded-for': '1.2.3.4, ::1, not-an-ip' },
  { accept: 'text/event-stream' },
  { accept: '*/*;q=abc' },
  { 'accept-encoding': 'gzip;q=2, br;q=-1' },
  { 'idempotency-key': '' },
  { 'idempotency-key': 'k'.repeat(256) },
  { 'idempotency-key': 'k'.repeat(255) },
  { 'idempotency-key': 'fuzz-key' },
  { 'x-http-method-override': 'DELETE' },
  { 'transfer-encoding': 'chunked' },
  { 'admin-key': 'x' },
  { 'queue-token': '' },
  { authorization: '' },
  { origin: 'https://evil.example' },
  { cookie: 'a=b; c' },
  { range: 'bytes=0-1' },
];
