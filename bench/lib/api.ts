import { randomUUID } from 'node:crypto';
import type {
  CreatedConcert,
  NewConcert,
  NewUser,
  QueueSettingsPatch,
  QueueStatus,
} from '../../harness/api-types.js';
import { sleep } from '../../harness/wait.js';
import { Signer } from '../../src/auth/signer.js';
import { AccessTokens } from '../../src/users/access-token.js';

/** A user as the bench drives it: the sign-up's answer, and the queue token once it joined. */
export type BenchUser = Pick<NewUser, 'userId' | 'accessToken'> & { queueToken?: string };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what}: ${status} ${JSON.stringify(body)}`);
  }
}

/** A JSON client for setting up scenarios (not for measuring: wrk does that). */
export class Api {
  constructor(
    readonly urls: string[],
    readonly adminKey: string,
  ) {}

  async call<T>(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; instance?: number } = {},
  ): Promise<{ status: number; body: T }> {
    const url = this.urls[(options.instance ?? 0) % this.urls.length]!;
    const send = () =>
      fetch(`${url}${path}`, {
        method,
        headers: {
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
        body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      });
    let res: Response;
    try {
      res = await send();
    } catch (error) {
      // A keep-alive connection the server closed as it was reused: reads are safe to resend.
      if (method !== 'GET')
        throw new Error(`${method} ${url}${path}: ${String((error as Error).cause ?? error)}`);
      await sleep(100);
      res = await send();
    }
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  async ok<T>(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; instance?: number } = {},
  ): Promise<T> {
    const r = await this.call<T>(method, path, options);
    if (r.status >= 300) throw new ApiError(r.status, r.body, `${method} ${path}`);
    return r.body;
  }

  admin(): Record<string, string> {
    return { 'admin-key': this.adminKey };
  }

  /** A concert whose dates start tomorrow, one per day. */
  async createConcert(dates: number, seats: number, price: number, title = 'bench'): Promise<ConcertInfo> {
    const first = Date.now() + 86_400_000;
    const list: NewConcert['dates'] = Array.from({ length: dates }, (_, i) => ({
      date: new Date(first + i * 86_400_000).toISOString().slice(0, 10),
      seats,
      price,
    }));
    const created = await this.ok<CreatedConcert>('POST', '/api/v1/admin/concerts', {
      headers: this.admin(),
      body: { title, venue: 'bench hall', dates: list },
    });
    return { concertId: created.concertId, dates: created.dates, seats, price };
  }

  async setQueue(concertId: string, patch: QueueSettingsPatch): Promise<void> {
    await this.ok('PATCH', `/api/v1/admin/concerts/${concertId}/queue`, {
      headers: this.admin(),
      body: patch,
    });
  }

  async createUsers(count: number, concurrency = 32): Promise<BenchUser[]> {
    return mapLimit(
      Array.from({ length: count }, (_, i) => i),
      concurrency,
      (i) => this.ok<NewUser>('POST', '/api/v1/users', { body: {}, instance: i }),
    );
  }

  async join(users: BenchUser[], concertId: string, concurrency = 32): Promise<void> {
    await mapLimit(users, concurrency, async (u, i) => {
      const s = await this.ok<QueueStatus>('POST', '/api/v1/queue/tokens', {
        headers: bearer(u),
        body: { concertId },
        instance: i,
      });
      u.queueToken = s.token;
    });
  }

  /** Polls every user's status until all are ACTIVE (the line must be open wide enough). */
  async waitActive(users: BenchUser[], timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let pending = users;
    while (pending.length > 0) {
      if (Date.now() > deadline) throw new Error(`${pending.length} users never became ACTIVE`);
      const states = await mapLimit(pending, 32, (u, i) =>
        this.ok<QueueStatus>('GET', '/api/v1/queue/status', {
          headers: { 'queue-token': u.queueToken! },
          instance: i,
        }),
      );
      pending = pending.filter((_, i) => states[i]!.status !== 'ACTIVE');
      if (pending.length > 0) await sleep(200);
    }
  }

  async charge(users: BenchUser[], amount: number): Promise<void> {
    await mapLimit(users, 32, (u, i) =>
      this.ok('POST', '/api/v1/balance/charges', { headers: bearer(u), body: { amount }, instance: i }),
    );
  }
}

export interface ConcertInfo {
  concertId: string;
  dates: string[];
  seats: number;
  price: number;
}

export function bearer(u: BenchUser): Record<string, string> {
  return { authorization: `Bearer ${u.accessToken}` };
}

export function gated(u: BenchUser): Record<string, string> {
  return { authorization: `Bearer ${u.accessToken}`, 'queue-token': u.queueToken! };
}

/**
 * Users that exist only as signed tokens (no database row), for scenarios that never touch
 * a user's row (joining, polling, reading seats): signing 100,000 tokens takes a fraction of
 * a second where creating them through the API would take a minute.
 */
export function signedUsers(secret: string, count: number): BenchUser[] {
  const tokens = new AccessTokens(new Signer(Buffer.from(secret, 'utf8')));
  return Array.from({ length: count }, () => {
    const userId = randomUUID();
    return { userId, accessToken: tokens.issue(userId) };
  });
}

export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
