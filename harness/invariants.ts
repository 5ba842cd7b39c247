import pg from 'pg';
import type { ClusterClient, HttpResponse } from './http.js';
import type { SaleResult, UserRecord } from './sale.js';
import { sleep } from './wait.js';

/**
 * The guarantees of API.md, checked after a sale through the API and straight in the
 * database. Every check runs whatever the others found, and none throws: each finding is a
 * `Violation`, so a test can fail on them and a benchmark can print them.
 */

export interface Violation {
  check: string;
  detail: string;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  /** What was looked at (counts), for the report. */
  detail: string;
}

export interface InvariantReport {
  checks: CheckResult[];
  violations: Violation[];
}

export interface InvariantOptions {
  sale: SaleResult;
  client: ClusterClient;
  adminKey: string;
  /**
   * The sale's PostgreSQL server (read only here). Without one (an embedded database cannot be
   * reached from outside its process) the SQL checks are not run, and the report says so.
   */
  databaseUrl?: string;
  /** The servers' QUEUE_MAX_ACTIVE. */
  maxActive: number;
  /** The servers' QUEUE_ACTIVE_TTL_SECONDS in ms: bounds the wait for the line to drain. */
  activeTtlMs: number;
  /** Users whose balance, history and payments are read through the API (default: all). */
  apiUsers?: number;
  /** Admission times of later tickets may be earlier by this much (default 0: none). */
  admissionSkewMs?: number;
}

/** Findings listed per check at most; the count says how many there were. */
const MAX_FINDINGS = 10;

type Finding = string;

class Checks {
  readonly results: CheckResult[] = [];
  readonly violations: Violation[] = [];

  /** Runs one check; a thrown error is a finding too (the check could not be completed). */
  async run(name: string, check: () => Promise<{ findings: Finding[]; detail: string }>): Promise<void> {
    let findings: Finding[];
    let detail: string;
    try {
      ({ findings, detail } = await check());
    } catch (error) {
      findings = [`check failed to run: ${error instanceof Error ? error.message : String(error)}`];
      detail = 'error';
    }
    this.results.push({ name, ok: findings.length === 0, detail });
    for (const finding of findings.slice(0, MAX_FINDINGS))
      this.violations.push({ check: name, detail: finding });
    if (findings.length > MAX_FINDINGS) {
      this.violations.push({ check: name, detail: `… and ${findings.length - MAX_FINDINGS} more` });
    }
  }
}

export async function checkSale(options: InvariantOptions): Promise<InvariantReport> {
  const { sale } = options;
  const checks = new Checks();
  const total = sale.dates.length * sale.seatsPerDate;
  const users = sale.users.filter((u) => u.userId !== '');
  const db = options.databaseUrl
    ? new pg.Client({ connectionString: options.databaseUrl, connectionTimeoutMillis: 5_000 })
    : undefined;
  await db?.connect().catch((error: Error) => {
    checks.violations.push({ check: 'database', detail: `cannot connect: ${error.message}` });
  });
  const query = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []) =>
    (await db!.query<T>(text, values)).rows;
  // The SQL checks need the database itself; without it they are left out, not passed.
  const sqlCheck: Checks['run'] = db ? (name, check) => checks.run(name, check) : async () => {};

  try {
    await checks.run('the sale completed: every seat bought once, every user done', async () => {
      const findings: Finding[] = [];
      const bought = sale.users.filter((u) => u.outcome === 'BOUGHT').length;
      if (sale.sold !== total) findings.push(`${sale.sold} of ${total} seats sold`);
      if (bought !== total) findings.push(`${bought} users bought, expected ${total}`);
      for (const u of sale.users) {
        if (u.outcome === 'FAILED' || u.outcome === 'TIMED_OUT' || u.outcome === 'RUNNING') {
          findings.push(`user ${u.index} ${u.outcome}${u.error ? `: ${u.error}` : ''}`);
        }
        if (u.payments.length > 1) findings.push(`user ${u.index} paid ${u.payments.length} times`);
      }
      return { findings, detail: `${sale.sold}/${total} sold, outcomes ${JSON.stringify(sale.outcomes)}` };
    });

    await checks.run('no server faults (5xx other than 503 UNAVAILABLE)', async () => {
      // 503 is API.md's answer for a store that does not answer in time (an overloaded pool):
      // the client retried it, and it is counted in the report, but it is not a fault.
      const all = Object.entries(sale.requests.byStatus).filter(([key]) => key.startsWith('5'));
      const faults = all.filter(([key]) => !key.startsWith('503'));
      const unavailable = all.filter(([key]) => key.startsWith('503')).reduce((n, [, c]) => n + c, 0);
      return {
        findings: faults.map(([key, n]) => `${n} × ${key}`),
        detail: `${sale.requests.total} requests, ${unavailable} × 503 (retried)`,
      };
    });

    await checks.run('no answer contradicted API.md during the sale', async () => {
      const findings: Finding[] = [];
      for (const u of sale.users) {
        for (const a of u.anomalies) findings.push(`user ${u.index}: ${a.kind}: ${a.detail}`);
      }
      return { findings, detail: `${sale.users.length} users` };
    });

    await sqlCheck('SQL: every seat SOLD, each to the CONFIRMED reservation it carries', async () => {
      const rows = await query<{ date: string; seat_number: number; sold: boolean; status: string | null }>(
        `SELECT sh.date::text AS date, s.seat_number, s.sold, r.status
           FROM seats s JOIN shows sh ON sh.id = s.show_id
           LEFT JOIN reservations r ON r.id = s.reservation_id
                AND r.show_id = s.show_id AND r.seat_number = s.seat_number
          WHERE sh.concert_id = $1`,
        [sale.concertId],
      );
      const findings: Finding[] = [];
      if (rows.length !== total) findings.push(`${rows.length} seats in the database, expected ${total}`);
      for (const r of rows) {
        if (!r.sold) findings.push(`seat ${r.date} #${r.seat_number} not sold`);
        else if (r.status !== 'CONFIRMED')
          findings.push(
            `seat ${r.date} #${r.seat_number} sold but its reservation is ${r.status ?? 'missing'}`,
          );
      }
      return { findings, detail: `${rows.filter((r) => r.sold).length}/${rows.length} sold` };
    });

    await sqlCheck('SQL: no seat in two CONFIRMED reservations', async () => {
      const twice = await query<{ date: string; seat_number: number; n: number }>(
        `SELECT date::text AS date, seat_number, count(*)::int AS n FROM reservations
          WHERE concert_id = $1 AND status = 'CONFIRMED'
          GROUP BY date, seat_number HAVING count(*) > 1`,
        [sale.concertId],
      );
      const [confirmed] = await query<{ n: number }>(
        `SELECT count(*)::int AS n FROM reservations WHERE concert_id = $1 AND status = 'CONFIRMED'`,
        [sale.concertId],
      );
      const n = confirmed?.n ?? 0;
      const findings = twice.map((r) => `seat ${r.date} #${r.seat_number} in ${r.n} CONFIRMED reservations`);
      if (n !== total) findings.push(`${n} CONFIRMED reservations, expected ${total}`);
      return { findings, detail: `${n} CONFIRMED` };
    });

    await sqlCheck(
      'SQL: payments — one per seat, matching its reservation, none lost or doubled',
      async () => {
        const rows = await query<{
          id: string;
          user_id: string;
          amount: number;
          date: string;
          seat_number: number;
          r_user: string | null;
          r_status: string | null;
          r_price: number | null;
        }>(
          `SELECT p.id, p.user_id, p.amount, p.date::text AS date, p.seat_number,
                r.user_id AS r_user, r.status AS r_status, r.price AS r_price
           FROM payments p LEFT JOIN reservations r ON r.id = p.reservation_id
          WHERE p.concert_id = $1`,
          [sale.concertId],
        );
        const findings: Finding[] = [];
        if (rows.length !== total) findings.push(`${rows.length} payments, expected ${total}`);
        const seats = new Set<string>();
        for (const p of rows) {
          const seat = `${p.date} #${p.seat_number}`;
          if (seats.has(seat)) findings.push(`seat ${seat} paid twice`);
          seats.add(seat);
          if (p.r_status !== 'CONFIRMED')
            findings.push(`payment ${p.id}: reservation ${p.r_status ?? 'missing'}`);
          if (p.r_user !== p.user_id) findings.push(`payment ${p.id}: reservation of another user`);
          if (p.amount !== p.r_price)
            findings.push(`payment ${p.id}: amount ${p.amount} ≠ price ${p.r_price}`);
        }
        // Every 201 a buyer got is in the database, and nothing else is.
        const seen = new Set(users.flatMap((u) => u.payments.map((p) => p.paymentId)));
        const stored = new Set(rows.map((p) => p.id));
        for (const id of seen)
          if (!stored.has(id)) findings.push(`payment ${id} confirmed to a buyer is missing`);
        for (const id of stored)
          if (!seen.has(id)) findings.push(`payment ${id} in the database was never confirmed`);
        return { findings, detail: `${rows.length} payments, ${seen.size} confirmed to buyers` };
      },
    );

    await sqlCheck('SQL: balance = charges − payments = sum of its ledger, for every user', async () => {
      const ids = users.map((u) => u.userId);
      const rows = await query<{
        user_id: string;
        balance: number;
        ledger: number;
        charges: number;
        charge_rows: number;
        payment_entries: number;
        payment_entry_rows: number;
        paid: number;
        payment_rows: number;
        bad_chain: number;
      }>(
        `WITH u AS (SELECT unnest($1::uuid[]) AS user_id),
         t AS (SELECT user_id,
                      sum(amount)::int AS ledger,
                      coalesce(sum(amount) FILTER (WHERE type = 'CHARGE'), 0)::int AS charges,
                      count(*) FILTER (WHERE type = 'CHARGE')::int AS charge_rows,
                      coalesce(-sum(amount) FILTER (WHERE type = 'PAYMENT'), 0)::int AS payment_entries,
                      count(*) FILTER (WHERE type = 'PAYMENT')::int AS payment_entry_rows
                 FROM wallet_transactions WHERE user_id = ANY($1::uuid[]) GROUP BY user_id),
         chain AS (SELECT user_id, count(*)::int AS bad FROM (
                     SELECT user_id, balance_after,
                            sum(amount) OVER (PARTITION BY user_id ORDER BY seq) AS running
                       FROM wallet_transactions WHERE user_id = ANY($1::uuid[])) x
                    WHERE balance_after <> running GROUP BY user_id),
         p AS (SELECT user_id, sum(amount)::int AS paid, count(*)::int AS payment_rows
                 FROM payments WHERE user_id = ANY($1::uuid[]) GROUP BY user_id)
         SELECT u.user_id, coalesce(w.balance, 0) AS balance, coalesce(t.ledger, 0) AS ledger,
                coalesce(t.charges, 0) AS charges, coalesce(t.charge_rows, 0) AS charge_rows,
                coalesce(t.payment_entries, 0) AS payment_entries,
                coalesce(t.payment_entry_rows, 0) AS payment_entry_rows,
                coalesce(p.paid, 0) AS paid, coalesce(p.payment_rows, 0) AS payment_rows,
                coalesce(chain.bad, 0) AS bad_chain
           FROM u LEFT JOIN wallets w ON w.user_id = u.user_id
                  LEFT JOIN t ON t.user_id = u.user_id
                  LEFT JOIN p ON p.user_id = u.user_id
                  LEFT JOIN chain ON chain.user_id = u.user_id`,
        [ids],
      );
      const byId = new Map(users.map((u) => [u.userId, u]));
      const findings: Finding[] = [];
      for (const r of rows) {
        const u = byId.get(r.user_id)!;
        const who = `user ${u.index}`;
        const expectedPaid = u.payments.reduce((sum, p) => sum + p.amount, 0);
        if (r.balance !== r.ledger) findings.push(`${who}: balance ${r.balance} ≠ ledger sum ${r.ledger}`);
        if (r.balance !== r.charges - r.paid)
          findings.push(`${who}: balance ${r.balance} ≠ charges ${r.charges} − payments ${r.paid}`);
        if (r.charges !== u.charged || r.charge_rows !== (u.charged > 0 ? 1 : 0))
          findings.push(
            `${who}: ${r.charge_rows} charges of ${r.charges} in total, made one of ${u.charged}`,
          );
        if (r.paid !== expectedPaid || r.payment_rows !== u.payments.length)
          findings.push(`${who}: ${r.payment_rows} payments of ${r.paid}, confirmed ${u.payments.length}`);
        if (r.payment_entries !== r.paid || r.payment_entry_rows !== r.payment_rows)
          findings.push(
            `${who}: PAYMENT ledger entries (${r.payment_entry_rows}) ≠ payments (${r.payment_rows})`,
          );
        if (r.bad_chain > 0)
          findings.push(`${who}: ${r.bad_chain} ledger rows whose balanceAfter ≠ running sum`);
      }
      // Across the whole database too (users who signed up but lost their answer included).
      const [drift] = await query<{ n: number }>(
        `SELECT count(*)::int AS n FROM wallets w
          WHERE w.balance <> (SELECT coalesce(sum(amount), 0) FROM wallet_transactions t
                               WHERE t.user_id = w.user_id)`,
      );
      if ((drift?.n ?? 0) > 0) findings.push(`${drift!.n} wallets in the database differ from their ledger`);
      return { findings, detail: `${rows.length} users` };
    });

    await checks.run(
      'API: balance = charges − payments = sum of history; payments as confirmed',
      async () => {
        const sample = users.slice(0, options.apiUsers ?? users.length);
        const found = await Promise.all(sample.map((u) => checkUserThroughApi(options.client, u)));
        return { findings: found.flat(), detail: `${sample.length} users` };
      },
    );

    await checks.run('queue: admitted in ticket (join) order', async () => {
      const skew = options.admissionSkewMs ?? 0;
      const admitted = users
        .flatMap((u) => u.tickets)
        .filter((t) => t.admittedAt !== null)
        .sort((a, b) => a.ticket - b.ticket);
      const findings: Finding[] = [];
      let latest: { ticket: number; at: number } | undefined;
      let worst = 0;
      for (const t of admitted) {
        const at = t.admittedAt!;
        if (latest && at < latest.at) {
          worst = Math.max(worst, latest.at - at);
          if (latest.at - at > skew)
            findings.push(
              `ticket ${t.ticket} admitted at ${new Date(at).toISOString()}, ${latest.at - at} ms before ticket ${latest.ticket}`,
            );
        }
        if (!latest || at >= latest.at) latest = { ticket: t.ticket, at };
      }
      const tickets = new Set(admitted.map((t) => t.ticket));
      if (tickets.size !== admitted.length) findings.push('a ticket number was issued to two users');
      return {
        findings,
        detail: `${admitted.length} admitted tickets, largest inversion ${worst} ms (tolerance ${skew} ms)`,
      };
    });

    await checks.run('queue: a waiting position never grew', async () => {
      const findings: Finding[] = [];
      let observed = 0;
      for (const u of users) {
        for (const t of u.tickets) {
          if (t.firstPosition !== null) observed++;
          for (const [from, to] of t.positionIncreases)
            findings.push(`user ${u.index} ticket ${t.ticket}: position ${from} → ${to}`);
        }
      }
      return { findings, detail: `${observed} waiting tickets observed` };
    });

    await checks.run(`queue: never more than QUEUE_MAX_ACTIVE (${options.maxActive}) active`, async () => {
      const findings: Finding[] = [];
      const over = sale.samples.filter((s) => s.active > options.maxActive);
      for (const s of over) findings.push(`${s.active} active at ${new Date(s.at).toISOString()}`);
      if (sale.samples.length < 10)
        findings.push(`only ${sale.samples.length} samples of the line were taken`);
      let gap = 0;
      for (let i = 1; i < sale.samples.length; i++)
        gap = Math.max(gap, sale.samples[i]!.at - sale.samples[i - 1]!.at);
      const max = Math.max(0, ...sale.samples.map((s) => s.active));
      return {
        findings,
        detail: `${sale.samples.length} samples (${sale.sampleErrors} failed), max active ${max}, largest gap ${gap} ms`,
      };
    });

    await checks.run('API: every seat SOLD, no date left to buy', async () => checkSeatsThroughApi(options));

    await checks.run('queue: the line drains (no waiting, no active token left)', async () => {
      const deadline = Date.now() + options.activeTtlMs + 5_000;
      let last: HttpResponse | undefined;
      while (Date.now() < deadline) {
        last = await options.client.call('GET', `/api/v1/admin/concerts/${sale.concertId}/queue`, {
          route: 'GET /api/v1/admin/concerts/{id}/queue',
          headers: { 'admin-key': options.adminKey },
        });
        if (last.status === 200 && last.body.waiting === 0 && last.body.active === 0)
          return { findings: [], detail: 'empty' };
        await sleep(250);
      }
      return { findings: [`line not empty: ${JSON.stringify(last?.body)}`], detail: 'not drained' };
    });
  } finally {
    await db?.end().catch(() => {});
  }
  return { checks: checks.results, violations: checks.violations };
}

/** One user's balance, history and payments as the API shows them, against the sale's record. */
async function checkUserThroughApi(client: ClusterClient, u: UserRecord): Promise<Finding[]> {
  const headers = { authorization: `Bearer ${u.accessToken}` };
  const [balance, history, payments] = await Promise.all([
    client.call('GET', '/api/v1/balance', { route: 'GET /api/v1/balance', headers }),
    client.call('GET', '/api/v1/balance/history', { route: 'GET /api/v1/balance/history', headers }),
    client.call('GET', '/api/v1/payments', { route: 'GET /api/v1/payments', headers }),
  ]);
  const who = `user ${u.index}`;
  if (balance.status !== 200 || history.status !== 200 || payments.status !== 200) {
    return [`${who}: balance ${balance.status}, history ${history.status}, payments ${payments.status}`];
  }
  const findings: Finding[] = [];
  const paid = u.payments.reduce((sum, p) => sum + p.amount, 0);
  const entries = history.body as { type: string; amount: number; balanceAfter: number }[];
  const sum = entries.reduce((s, e) => s + e.amount, 0);
  if (balance.body.balance !== u.charged - paid)
    findings.push(`${who}: balance ${balance.body.balance} ≠ charged ${u.charged} − paid ${paid}`);
  if (balance.body.balance !== sum)
    findings.push(`${who}: balance ${balance.body.balance} ≠ history sum ${sum}`);
  if (entries.length > 0 && entries[0]!.balanceAfter !== balance.body.balance)
    findings.push(`${who}: newest history entry's balanceAfter ${entries[0]!.balanceAfter} ≠ balance`);
  const charges = entries.filter((e) => e.type === 'CHARGE').length;
  if (charges !== 1) findings.push(`${who}: ${charges} CHARGE entries for one charge`);
  const listed = new Set((payments.body as { paymentId: string }[]).map((p) => p.paymentId));
  const confirmed = new Set(u.payments.map((p) => p.paymentId));
  if (listed.size !== confirmed.size || [...confirmed].some((id) => !listed.has(id)))
    findings.push(`${who}: payments listed ${[...listed]} ≠ confirmed ${[...confirmed]}`);
  return findings;
}

/**
 * The seat maps as a buyer sees them: a fresh user joins the line (the seat map is gated),
 * waits to be admitted, finds no date with seats left and every seat SOLD, then leaves.
 */
async function checkSeatsThroughApi(
  options: InvariantOptions,
): Promise<{ findings: Finding[]; detail: string }> {
  const { client, sale } = options;
  const created = await client.call('POST', '/api/v1/users', {
    route: 'POST /api/v1/users',
    body: { name: 'auditor' },
  });
  if (created.status !== 201) return { findings: [`auditor sign-up: ${created.status}`], detail: 'error' };
  const auth = { authorization: `Bearer ${created.body.accessToken}` };
  const joined = await client.call('POST', '/api/v1/queue/tokens', {
    route: 'POST /api/v1/queue/tokens',
    headers: auth,
    body: { concertId: sale.concertId },
    retryable: true,
  });
  if (joined.status !== 201) return { findings: [`auditor join: ${joined.status}`], detail: 'error' };
  const headers = { ...auth, 'queue-token': joined.body.token as string };
  let status = joined.body.status as string;
  const deadline = Date.now() + options.activeTtlMs + 10_000;
  while (status === 'WAITING' && Date.now() < deadline) {
    await sleep(200);
    const res = await client.call('GET', '/api/v1/queue/status', {
      route: 'GET /api/v1/queue/status',
      headers,
    });
    status = res.body.status;
  }
  if (status !== 'ACTIVE') return { findings: [`auditor not admitted: ${status}`], detail: 'error' };
  const findings: Finding[] = [];
  try {
    const dates = await client.call('GET', `/api/v1/concerts/${sale.concertId}/dates`, {
      route: 'GET /api/v1/concerts/{id}/dates',
      headers,
    });
    if (dates.status !== 200 || dates.body.length !== 0)
      findings.push(`dates with seats left: ${dates.status} ${JSON.stringify(dates.body)}`);
    let sold = 0;
    for (const date of sale.dates) {
      const res = await client.call('GET', `/api/v1/concerts/${sale.concertId}/dates/${date}/seats`, {
        route: 'GET /api/v1/concerts/{id}/dates/{date}/seats',
        headers,
      });
      if (res.status !== 200) {
        findings.push(`seats of ${date}: ${res.status}`);
        continue;
      }
      const seats = res.body.seats as { seatNumber: number; status: string }[];
      if (seats.length !== sale.seatsPerDate) findings.push(`${date}: ${seats.length} seats listed`);
      if (res.body.availableSeats !== 0) findings.push(`${date}: availableSeats ${res.body.availableSeats}`);
      for (const s of seats) {
        if (s.status === 'SOLD') sold++;
        else findings.push(`${date} seat ${s.seatNumber} is ${s.status}`);
      }
    }
    return { findings, detail: `${sold} seats SOLD through the API` };
  } finally {
    await client.call('DELETE', '/api/v1/queue/tokens/current', {
      route: 'DELETE /api/v1/queue/tokens/current',
      headers,
    });
  }
}
