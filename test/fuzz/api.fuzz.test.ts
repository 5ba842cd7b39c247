import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { Signer } from '../../src/auth/signer.js';
import { QueueTokens } from '../../src/queue/queue-token.js';
import { errorCatalog } from '../../src/shared/errors.js';
import { AccessTokens } from '../../src/users/access-token.js';
import { announceSkips, backends } from '../helpers/backends.js';
import { ADMIN_KEY, type TestContext, type User, useService } from '../helpers/context.js';
import { LEAK } from '../hostile/problem.js';
import {
  CONTENT_TYPES,
  DATE_SPELLINGS,
  hashName,
  NASTY_LISTS,
  NASTY_NUMBERS,
  NASTY_STRINGS,
  nastyValue,
  ODD_HEADERS,
  prng,
  type Rng,
  rawBodies,
  uuidSpellings,
} from './generators.js';

/**
 * For every endpoint of API.md, hundreds of generated malformed requests from a client who is
 * a real, admitted buyer: wrong types and bounds, NUL and lone surrogates, 100k-character
 * strings, id and date spellings, deep JSON, forged, edited, foreign and swapped tokens, odd
 * content types and headers. Each answer must be below 500, a problem+json with a known code
 * when it is a refusal, with no stack or SQL text; and another user's balance, history,
 * reservations, payments, seats and place in line must be exactly as before.
 *
 * FUZZ_SEED reproduces a run; a failure message names the endpoint, the index and the request.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_202);
const PER_ENDPOINT = Number(process.env.FUZZ_REQUESTS ?? 300);

announceSkips('fuzz');

interface Buyer {
  user: User;
  queueToken: string;
}

interface World {
  concertId: string;
  /** The attacker's own concert, for the admin endpoints. */
  ownConcertId: string;
  dates: string[];
  victim: Buyer & { heldId: string; paidId: string; ticketCode: string };
  attacker: Buyer & { heldId: string };
  /** Tokens naming the victim, signed by another deployment's secret. */
  foreign: { access: string; queue: string };
}

interface FuzzRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH';
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

type Credential = 'user' | 'gated' | 'queue' | 'admin' | 'gate' | 'none' | 'queryToken';

interface Endpoint {
  name: string;
  method: FuzzRequest['method'];
  /** The path, with `{param}` slots. */
  path: string;
  params?: Record<string, { kind: 'uuid' | 'date'; valid: (w: World) => string }>;
  body?: (w: World) => Record<string, unknown>;
  /** A valid query string, which mutations spoil (`section=` of a seat map). */
  query?: (w: World) => string;
  credential: Credential;
  /** Queue tokens this endpoint may be handed besides broken ones (never one it could misuse). */
  genuineQueueTokens?: (w: World) => string[];
}

/** An ALTCHA payload of the right shape that solves nothing this service issued. */
const FORGED_PROOF = Buffer.from(
  JSON.stringify({
    challenge: {
      parameters: {
        algorithm: 'PBKDF2/SHA-256',
        nonce: '00'.repeat(16),
        salt: '11'.repeat(16),
        cost: 200,
        keyLength: 32,
        keyPrefix: '22'.repeat(16),
        keySignature: '33'.repeat(32),
        expiresAt: 4_102_444_800,
      },
      signature: '44'.repeat(32),
    },
    solution: { counter: 1, derivedKey: '55'.repeat(32) },
  }),
).toString('base64');

const ENDPOINTS: Endpoint[] = [
  {
    name: 'create user',
    method: 'POST',
    path: '/api/v1/users',
    body: () => ({ name: 'fan', proof: FORGED_PROOF }),
    credential: 'none',
  },
  {
    name: 'join the line',
    method: 'POST',
    path: '/api/v1/queue/tokens',
    body: (w) => ({ concertId: w.concertId }),
    credential: 'user',
  },
  {
    name: 'join a line that asks for a proof of work',
    method: 'POST',
    path: '/api/v1/queue/tokens',
    // The attacker's own concert has the challenge on (setUpWorld) and no ticket of theirs.
    body: (w) => ({ concertId: w.ownConcertId, proof: FORGED_PROOF }),
    credential: 'user',
  },
  {
    name: 'queue status',
    method: 'GET',
    path: '/api/v1/queue/status',
    credential: 'queue',
    genuineQueueTokens: (w) => [w.attacker.queueToken],
  },
  {
    name: 'queue events',
    method: 'GET',
    path: '/api/v1/queue/events',
    credential: 'queryToken',
  },
  {
    name: 'leave the line',
    method: 'DELETE',
    path: '/api/v1/queue/tokens/current',
    credential: 'queue',
    genuineQueueTokens: () => [],
  },
  { name: 'list concerts', method: 'GET', path: '/api/v1/concerts', credential: 'none' },
  {
    name: 'dates',
    method: 'GET',
    path: '/api/v1/concerts/{concertId}/dates',
    params: { concertId: { kind: 'uuid', valid: (w) => w.concertId } },
    credential: 'gated',
  },
  {
    name: 'seat map',
    method: 'GET',
    path: '/api/v1/concerts/{concertId}/dates/{date}/seats',
    params: {
      concertId: { kind: 'uuid', valid: (w) => w.concertId },
      date: { kind: 'date', valid: (w) => w.dates[0]! },
    },
    credential: 'gated',
  },
  {
    name: 'seat map of a section',
    method: 'GET',
    path: '/api/v1/concerts/{concertId}/dates/{date}/seats',
    params: {
      concertId: { kind: 'uuid', valid: (w) => w.concertId },
      date: { kind: 'date', valid: (w) => w.dates[0]! },
    },
    query: () => 'section=A',
    credential: 'gated',
  },
  {
    name: 'sections',
    method: 'GET',
    path: '/api/v1/concerts/{concertId}/dates/{date}/sections',
    params: {
      concertId: { kind: 'uuid', valid: (w) => w.concertId },
      date: { kind: 'date', valid: (w) => w.dates[0]! },
    },
    credential: 'gated',
  },
  {
    name: 'draw',
    method: 'GET',
    path: '/api/v1/concerts/{concertId}/draw',
    params: { concertId: { kind: 'uuid', valid: (w) => w.concertId } },
    credential: 'none',
  },
  {
    name: 'hold a seat',
    method: 'POST',
    path: '/api/v1/reservations',
    body: (w) => ({ concertId: w.concertId, date: w.dates[1]!, seatNumber: 10 }),
    credential: 'gated',
  },
  {
    name: 'hold these seats',
    method: 'POST',
    path: '/api/v1/reservations',
    body: (w) => ({ concertId: w.concertId, date: w.dates[1]!, seatNumbers: [11, 12] }),
    credential: 'gated',
  },
  {
    name: 'hold the best seats',
    method: 'POST',
    path: '/api/v1/reservations',
    body: (w) => ({ concertId: w.concertId, date: w.dates[1]!, quantity: 2, section: 'A', grade: 'R' }),
    credential: 'gated',
  },
  { name: 'list reservations', method: 'GET', path: '/api/v1/reservations', credential: 'user' },
  {
    name: 'one reservation',
    method: 'GET',
    path: '/api/v1/reservations/{reservationId}',
    params: { reservationId: { kind: 'uuid', valid: (w) => w.victim.heldId } },
    credential: 'user',
  },
  {
    name: 'cancel a reservation',
    method: 'DELETE',
    path: '/api/v1/reservations/{reservationId}',
    params: { reservationId: { kind: 'uuid', valid: (w) => w.victim.heldId } },
    credential: 'user',
  },
  { name: 'balance', method: 'GET', path: '/api/v1/balance', credential: 'user' },
  {
    name: 'charge',
    method: 'POST',
    path: '/api/v1/balance/charges',
    body: () => ({ amount: 1000 }),
    credential: 'user',
  },
  { name: 'history', method: 'GET', path: '/api/v1/balance/history', credential: 'user' },
  {
    name: 'pay',
    method: 'POST',
    path: '/api/v1/payments',
    body: (w) => ({ reservationId: w.victim.heldId }),
    credential: 'gated',
  },
  {
    name: 'pay several',
    method: 'POST',
    path: '/api/v1/payments',
    // The attacker names the victim's hold beside their own: never payable by them.
    body: (w) => ({ reservationIds: [w.attacker.heldId, w.victim.heldId] }),
    credential: 'gated',
  },
  { name: 'list payments', method: 'GET', path: '/api/v1/payments', credential: 'user' },
  {
    name: 'admin: create concert',
    method: 'POST',
    path: '/api/v1/admin/concerts',
    body: () => ({ title: 'Fuzz', venue: 'Hall', dates: [{ date: '2031-01-01', seats: 2, price: 1000 }] }),
    credential: 'admin',
  },
  {
    name: 'admin: create concert with a seating plan',
    method: 'POST',
    path: '/api/v1/admin/concerts',
    body: () => ({
      title: 'Fuzz plan',
      venue: 'Arena',
      seating: [
        { section: 'A', grade: 'R', price: 1000, rows: [2, 3] },
        { section: 'B', grade: 'S', price: 500, rows: [4] },
      ],
      dates: [{ date: '2031-01-01' }],
    }),
    credential: 'admin',
  },
  {
    name: 'admin: seating report',
    method: 'GET',
    path: '/api/v1/admin/concerts/{concertId}/seating',
    params: { concertId: { kind: 'uuid', valid: (w) => w.ownConcertId } },
    credential: 'admin',
  },
  {
    name: 'admin: read line',
    method: 'GET',
    path: '/api/v1/admin/concerts/{concertId}/queue',
    params: { concertId: { kind: 'uuid', valid: (w) => w.ownConcertId } },
    credential: 'admin',
  },
  {
    name: 'admin: steer line',
    method: 'PATCH',
    path: '/api/v1/admin/concerts/{concertId}/queue',
    params: { concertId: { kind: 'uuid', valid: (w) => w.ownConcertId } },
    body: () => ({ maxActive: 5, paused: false }),
    credential: 'admin',
  },
  {
    name: 'admin: list webhooks',
    method: 'GET',
    path: '/api/v1/admin/webhooks',
    credential: 'admin',
  },
  {
    name: 'admin: retry a webhook',
    method: 'POST',
    path: '/api/v1/admin/webhooks/{eventId}/retry',
    params: { eventId: { kind: 'uuid', valid: () => '00000000-0000-4000-8000-000000000000' } },
    credential: 'admin',
  },
  { name: 'health and metrics', method: 'GET', path: '/health/ready', credential: 'none' },
  { name: 'my tickets', method: 'GET', path: '/api/v1/tickets', credential: 'user' },
  { name: 'ticket keys', method: 'GET', path: '/api/v1/tickets/keys', credential: 'none' },
  {
    name: 'gate: check in',
    method: 'POST',
    path: '/api/v1/gate/checkins',
    // The victim's code with its last character changed: never one that checks in, so the
    // victim's ticket must still be VALID afterwards, whatever the mutations.
    body: (w) => ({
      code: `${w.victim.ticketCode.slice(0, -1)}${w.victim.ticketCode.endsWith('A') ? 'B' : 'A'}`,
    }),
    credential: 'gate',
  },
];

const GATE_KEY = 'fuzz-gate-key-0123456789';

/** A token with one character changed, or with another token's signature. */
function edited(rng: Rng, token: string, other: string): string {
  if (rng.chance(0.5)) {
    const i = rng.int(token.length);
    const c = token[i] === 'A' ? 'B' : 'A';
    return token.slice(0, i) + c + token.slice(i + 1);
  }
  return `${token.split('.')[0]}.${other.split('.')[1]}`;
}

function brokenToken(rng: Rng, w: World, kind: 'access' | 'queue'): string {
  const own = kind === 'access' ? w.attacker.user.accessToken : w.attacker.queueToken;
  const victims = kind === 'access' ? w.victim.user.accessToken : w.victim.queueToken;
  const choices = [
    () => edited(rng, own, victims),
    () => edited(rng, victims, own),
    () => (kind === 'access' ? w.foreign.access : w.foreign.queue),
    () => (kind === 'access' ? w.attacker.queueToken : w.attacker.user.accessToken), // swapped kinds
    () => `${own}.${own}`,
    () => own.split('.')[0]!,
    () => `${own} `,
    () => 'x'.repeat(5000),
    () => 'a.b',
    () => '.',
    () => rng.pick(NASTY_STRINGS.filter((s) => s.length < 200 && /^[\x20-\x7e]*$/.test(s))),
  ];
  return rng.pick(choices)();
}

/** Valid credentials for the endpoint, as the attacker (an admitted buyer) has them. */
function credentials(endpoint: Endpoint, w: World): Record<string, string> {
  const bearer = { authorization: `Bearer ${w.attacker.user.accessToken}` };
  switch (endpoint.credential) {
    case 'user':
      return bearer;
    case 'gated':
      return { ...bearer, 'queue-token': w.attacker.queueToken };
    case 'queue':
      return { 'queue-token': w.attacker.queueToken };
    case 'admin':
      return { 'admin-key': ADMIN_KEY };
    case 'gate':
      return { 'gate-key': GATE_KEY };
    default:
      return {};
  }
}

/** Broken credentials of every sort, in place of the valid ones. */
function mutateCredentials(rng: Rng, endpoint: Endpoint, w: World, headers: Record<string, string>): void {
  const choice = rng.int(4);
  if (endpoint.credential === 'admin') {
    headers['admin-key'] = rng.pick([
      '',
      'x',
      `${ADMIN_KEY}x`,
      ADMIN_KEY.toUpperCase(),
      ` ${ADMIN_KEY}`,
      'y'.repeat(5000),
      w.attacker.user.accessToken,
    ]);
    if (headers['admin-key'] === '') delete headers['admin-key'];
    return;
  }
  if (endpoint.credential === 'gate') {
    headers['gate-key'] = rng.pick([
      '',
      'x',
      `${GATE_KEY}x`,
      GATE_KEY.toUpperCase(),
      ADMIN_KEY,
      'y'.repeat(5000),
    ]);
    if (headers['gate-key'] === '') delete headers['gate-key'];
    return;
  }
  if (choice === 0 || endpoint.credential === 'user' || endpoint.credential === 'none') {
    headers.authorization = rng.pick([
      `Bearer ${brokenToken(rng, w, 'access')}`,
      `Bearer ${w.foreign.access}`,
      'Bearer',
      'Bearer ',
      `bearer ${w.attacker.user.accessToken}`,
      `Basic ${Buffer.from('a:b').toString('base64')}`,
      w.attacker.user.accessToken,
      `Bearer ${w.attacker.user.accessToken} ${w.attacker.user.accessToken}`,
    ]);
    return;
  }
  if (choice === 1) {
    delete headers.authorization;
    delete headers['queue-token'];
    return;
  }
  const genuine = endpoint.genuineQueueTokens?.(w) ?? [w.attacker.queueToken, w.victim.queueToken];
  headers['queue-token'] =
    genuine.length > 0 && rng.chance(0.2) ? rng.pick(genuine) : brokenToken(rng, w, 'queue');
  if (endpoint.credential === 'gated' && rng.chance(0.3)) {
    // The victim's genuine credentials crossed with the attacker's.
    headers.authorization = `Bearer ${w.attacker.user.accessToken}`;
    headers['queue-token'] = w.victim.queueToken;
  }
}

function spell(rng: Rng, kind: 'uuid' | 'date', valid: string): string {
  if (kind === 'uuid') return rng.pick(uuidSpellings(valid));
  return encodeURIComponent(rng.pick(DATE_SPELLINGS));
}

/** Text as a query value: percent-encoded, or, for a lone surrogate (which cannot be), as it is. */
function encodedOrRaw(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return text;
  }
}

/** One malformed request for the endpoint: a few mutations of a valid one. */
function generate(rng: Rng, endpoint: Endpoint, w: World): FuzzRequest {
  const headers: Record<string, string> = { ...credentials(endpoint, w) };
  const params: Record<string, string> = {};
  for (const [name, p] of Object.entries(endpoint.params ?? {})) params[name] = p.valid(w);
  let body: unknown = endpoint.body?.(w);
  let payload: string | Buffer | undefined;
  let query =
    endpoint.credential === 'queryToken'
      ? `token=${encodeURIComponent(w.attacker.queueToken)}`
      : (endpoint.query?.(w) ?? '');
  let contentType = body !== undefined ? 'application/json' : undefined;

  const mutations = 1 + rng.int(3);
  for (let m = 0; m < mutations; m++) {
    switch (rng.int(9)) {
      case 0:
      case 1: {
        // A field of the body: any value of the wrong kind, out of bounds or bad text.
        if (body && typeof body === 'object' && !Array.isArray(body)) {
          const fields = Object.keys(body as object);
          const field =
            rng.chance(0.85) && fields.length > 0
              ? rng.pick(fields)
              : rng.pick(['extra', 'userId', '__proto__']);
          const value =
            Array.isArray((body as Record<string, unknown>)[field]) && rng.chance(0.5)
              ? rng.pick(NASTY_LISTS)
              : rng.chance(0.3) && field.endsWith('Id')
                ? rng.pick(
                    uuidSpellings(String((body as Record<string, unknown>)[field] ?? crypto.randomUUID())),
                  )
                : nastyValue(rng);
          body = {
            ...(body as object),
            [field]: field === 'date' && rng.chance(0.5) ? rng.pick(DATE_SPELLINGS) : value,
          };
          if (rng.chance(0.2)) delete (body as Record<string, unknown>)[rng.pick(fields)];
        } else {
          body = nastyValue(rng);
          contentType = 'application/json';
        }
        break;
      }
      case 2: {
        // The whole body malformed, or not JSON at all.
        payload = rng.pick(rawBodies(rng));
        contentType = 'application/json';
        break;
      }
      case 3: {
        const names = Object.keys(params);
        if (endpoint.query && rng.chance(0.5)) {
          // The section of a seat map: unknown, empty, too long, bad text, repeated, or beside another.
          query = rng.pick([
            `section=${encodedOrRaw(rng.pick(NASTY_STRINGS))}`,
            'section=A&section=B',
            'section=A&x=1',
            'section',
            `section=${'%ED%A0%80'}`,
            `section=${encodeURIComponent(String(rng.pick(NASTY_NUMBERS)))}`,
          ]);
        } else if (names.length > 0) {
          const name = rng.pick(names);
          params[name] = spell(rng, endpoint.params![name]!.kind, params[name]!);
        } else {
          query = `${query}${query ? '&' : ''}id=${encodeURIComponent(rng.pick(uuidSpellings(w.concertId)))}`;
        }
        break;
      }
      case 4:
      case 5:
        if (endpoint.credential === 'queryToken') {
          query = `token=${encodeURIComponent(brokenToken(rng, w, 'queue'))}`;
        } else {
          mutateCredentials(rng, endpoint, w, headers);
        }
        break;
      case 6:
        contentType = rng.pick(CONTENT_TYPES);
        if (payload === undefined && body === undefined) body = { a: 1 };
        break;
      case 7:
        Object.assign(headers, rng.pick(ODD_HEADERS));
        break;
      default:
        query = rng.pick([
          'token=',
          'token=%00',
          'token=a&token=b',
          'a[b]=c',
          '__proto__[x]=1',
          `token=${'t'.repeat(3000)}`,
          '%E0%A4%A=1',
          'x=%ED%A0%80',
        ]);
    }
  }
  let url = endpoint.path;
  for (const [name, value] of Object.entries(params)) url = url.replace(`{${name}}`, value);
  if (query) url += `?${query}`;
  if (payload === undefined && body !== undefined) payload = JSON.stringify(body);
  if (contentType !== undefined && payload !== undefined) headers['content-type'] = contentType;
  return { method: endpoint.method, url, headers, ...(payload !== undefined ? { payload } : {}) };
}

function describeRequest(r: FuzzRequest): string {
  const payload = r.payload === undefined ? '' : String(r.payload);
  const cut = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}…(${s.length})` : s);
  return JSON.stringify({ ...r, url: cut(r.url), payload: cut(payload) });
}

async function setUpWorld(s: TestContext): Promise<World> {
  const { concertId, dates } = await s.newConcert({ dates: 2 });
  const { concertId: ownConcertId } = await s.newConcert();
  const challenge = await s.call('PATCH', `/api/v1/admin/concerts/${ownConcertId}/queue`, {
    headers: { 'admin-key': ADMIN_KEY },
    body: { challenge: true },
  });
  expect(challenge.status).toBe(200);
  const victim = await s.activeBuyer(concertId, 500_000);
  const attacker = await s.activeBuyer(concertId, 300_000);
  const held = await s.hold(victim, concertId, dates[0]!, 1);
  const paidHold = await s.hold(victim, concertId, dates[0]!, 2);
  const paid = await s.pay(victim, paidHold.body.reservationId);
  expect([held.status, paidHold.status, paid.status]).toEqual([201, 201, 201]);
  const attackerHold = await s.hold(attacker, concertId, dates[1]!, 20);
  const otherSecret = new Signer(randomBytes(32));
  const status = (await s.call('GET', '/api/v1/queue/status', { queueToken: victim.queueToken })).body;
  expect(status.status).toBe('ACTIVE');
  const [ticket] = (await s.call('GET', '/api/v1/tickets', { user: victim.user })).body;
  return {
    concertId,
    ownConcertId,
    dates,
    victim: {
      ...victim,
      heldId: held.body.reservationId,
      paidId: paid.body.paymentId,
      ticketCode: ticket.code,
    },
    attacker: { ...attacker, heldId: attackerHold.body.reservationId },
    foreign: {
      access: new AccessTokens(otherSecret).issue(victim.user.userId),
      queue: new QueueTokens(otherSecret).issue({ concertId, userId: victim.user.userId, ticket: 1 }),
    },
  };
}

/** Everything that is the victim's, read through the API as the victim. */
async function victimState(s: TestContext, w: World) {
  const as = { user: w.victim.user };
  const gated = { user: w.victim.user, queueToken: w.victim.queueToken };
  const seats = (await s.call('GET', `/api/v1/concerts/${w.concertId}/dates/${w.dates[0]}/seats`, gated))
    .body;
  return {
    balance: (await s.call('GET', '/api/v1/balance', as)).body,
    history: (await s.call('GET', '/api/v1/balance/history', as)).body,
    reservations: (await s.call('GET', '/api/v1/reservations', as)).body,
    payments: (await s.call('GET', '/api/v1/payments', as)).body,
    tickets: (await s.call('GET', '/api/v1/tickets', as)).body,
    seats: seats.seats?.filter((seat: { seatNumber: number }) => seat.seatNumber <= 2),
    status: (await s.call('GET', '/api/v1/queue/status', { queueToken: w.victim.queueToken })).body,
    line: await s.store.getSettings(w.concertId),
  };
}

describe.each(backends)('fuzz on $name', (backend) => {
  const service = useService(backend, {
    env: {
      ADMIN_KEY_FAILURES_PER_HOUR: '1000000',
      GATE_KEY,
      QUEUE_ACTIVE_TTL_SECONDS: '86400',
      HOLD_TTL_SECONDS: '86400',
    },
  });

  for (const endpoint of ENDPOINTS) {
    test(`when "${endpoint.method} ${endpoint.path}" gets ${PER_ENDPOINT} malformed requests, then no 5xx, every refusal is a problem, and another user's state is unchanged`, async () => {
      const s = service();
      const world = await setUpWorld(s);
      const before = await victimState(s, world);
      expect(before.status.status).toBe('ACTIVE');
      expect(before.reservations).toHaveLength(2);
      const seed = (SEED ^ hashName(endpoint.name)) >>> 0;
      const rng = prng(seed);
      const seen = new Map<number, number>();
      for (let i = 0; i < PER_ENDPOINT; i++) {
        const request = generate(rng, endpoint, world);
        const where = `seed ${SEED}, ${endpoint.name} #${i}: ${describeRequest(request)}`;
        let res: Awaited<ReturnType<typeof s.app.inject>>;
        try {
          res = await s.app.inject(request);
        } catch (error) {
          // The test client itself refuses some header values; no server would see them.
          if (/Invalid character|ERR_INVALID_CHAR|ERR_HTTP_INVALID_HEADER_VALUE/.test(String(error)))
            continue;
          throw error;
        }
        seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
        expect(res.statusCode, `${where}\n→ ${res.body.slice(0, 500)}`).toBeLessThan(500);
        if (res.statusCode >= 400) {
          expect(String(res.headers['content-type']), where).toContain('application/problem+json');
          const problem = JSON.parse(res.body);
          expect(Object.keys(errorCatalog), where).toContain(problem.code);
          expect(problem.status, where).toBe(res.statusCode);
          expect(res.body, where).not.toMatch(LEAK);
        }
      }
      // Where there is input to refuse, most requests must be refused: a fuzz whose mutations
      // never reach validation would pass while proving nothing.
      const refused = [...seen].filter(([status]) => status >= 400).reduce((n, [, c]) => n + c, 0);
      const takesInput = endpoint.credential !== 'none' || endpoint.body || endpoint.params;
      if (takesInput) expect(refused, JSON.stringify([...seen])).toBeGreaterThan(PER_ENDPOINT / 3);
      expect(await victimState(s, world)).toEqual(before);
    });
  }
});
