import { Agent, request } from 'node:http';
import { gated } from '../lib/api.js';
import { cpuSeconds } from '../lib/machine.js';
import { summarize } from '../lib/stats.js';
import { type Check, type Scenario, serverErrors } from './scenario.js';

/** Issue 12.5: 200 concurrent holds of one seat; run with `--instances 1` for its target. */
const CONTENDERS = 200;
const ROUNDS = 3;

export interface Answer {
  status: number;
  code: string | undefined;
  ms: number;
  /** The answer's body (best-contended reads the seats each winner got). */
  text: string;
}

export function post(agent: Agent, url: string, path: string, headers: Record<string, string>, body: string) {
  return new Promise<Answer>((resolve, reject) => {
    const started = performance.now();
    const req = request(
      `${url}${path}`,
      { method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => {
          const code = res.statusCode! >= 400 ? /"code":"([A-Z_]+)"/.exec(text)?.[1] : undefined;
          resolve({ status: res.statusCode!, code, ms: performance.now() - started, text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function get(agent: Agent, url: string, path: string) {
  return new Promise<void>((resolve, reject) => {
    request(`${url}${path}`, { agent }, (res) => {
      res.resume();
      res.on('end', resolve);
    })
      .on('error', reject)
      .end();
  });
}

/**
 * CONTENDERS active users hold the same seat at the same instant, over warm keep-alive connections
 * spread across the instances; exactly one may win. Fired from Node (wrk cannot send a burst
 * of distinct one-off requests), so client time is inside the latencies.
 */
export const holdContended: Scenario = async (ctx) => {
  const contenders = ctx.smoke ? 200 : CONTENDERS;
  const rounds = ctx.smoke ? 1 : ROUNDS;
  const concert = await ctx.api.createConcert(1, 50, 1000, 'bench contended');
  ctx.cluster.trackConcert(concert.concertId);
  await ctx.api.setQueue(concert.concertId, { maxActive: 1_000_000, admitPerSecond: 100_000 });
  ctx.progress(`hold-contended: ${contenders} users sign up, join and get in`);
  const users = await ctx.api.createUsers(contenders, 64);
  await ctx.api.join(users, concert.concertId, 64);
  await ctx.api.waitActive(users);

  const urls = ctx.api.urls;
  const agents = urls.map(
    () => new Agent({ keepAlive: true, maxSockets: contenders, maxFreeSockets: contenders }),
  );
  try {
    // Warm one connection per contender so the burst measures holds, not TCP handshakes.
    await Promise.all(
      users.map((_, i) => get(agents[i % urls.length]!, urls[i % urls.length]!, '/health/live')),
    );
    if (!ctx.smoke) {
      // One unmeasured round on the show's last seat warms the JIT when this runs alone.
      ctx.progress('hold-contended: warm-up round');
      const body = JSON.stringify({
        concertId: concert.concertId,
        date: concert.dates[0],
        seatNumber: concert.seats,
      });
      await Promise.all(
        users.map((u, i) =>
          post(agents[i % urls.length]!, urls[i % urls.length]!, '/api/v1/reservations', gated(u), body),
        ),
      );
    }
    const answers: Answer[] = [];
    const checks: Check[] = [];
    let wallMs = 0;
    const cpuBefore = cpuSeconds(ctx.serverPids);
    for (let round = 0; round < rounds; round++) {
      ctx.progress(`hold-contended: round ${round + 1}/${rounds}, ${contenders} holds of seat ${round + 1}`);
      const body = JSON.stringify({
        concertId: concert.concertId,
        date: concert.dates[0],
        seatNumber: round + 1,
      });
      const started = performance.now();
      const got = await Promise.all(
        users.map((u, i) =>
          post(agents[i % urls.length]!, urls[i % urls.length]!, '/api/v1/reservations', gated(u), body),
        ),
      );
      wallMs += performance.now() - started;
      answers.push(...got);
      const winners = got.filter((a) => a.status === 201).length;
      const losers = got.filter((a) => a.status === 409 && a.code === 'SEAT_UNAVAILABLE').length;
      checks.push({
        name: `round ${round + 1}: exactly one winner, the rest SEAT_UNAVAILABLE`,
        ok: winners === 1 && losers === contenders - 1,
        detail: `${winners} won, ${losers} refused`,
      });
    }
    const counts: Record<string, number> = {};
    for (const a of answers) {
      const key = a.code ? `${a.status} ${a.code}` : String(a.status);
      counts[key] = (counts[key] ?? 0) + 1;
    }
    const latencyMs = summarize(answers.map((a) => a.ms));
    checks.unshift({ name: 'no 5xx', ok: serverErrors(counts) === 0, detail: `${serverErrors(counts)} 5xx` });
    return {
      name: 'hold-contended',
      unit: 'req/s',
      load: {
        requests: answers.length,
        seconds: wallMs / 1000,
        perSecond: answers.length / (wallMs / 1000),
        latencyMs,
        counts,
        socketErrors: {},
        serverCpuPerCore: (cpuSeconds(ctx.serverPids) - cpuBefore) / (wallMs / 1000),
      },
      ceiling: null,
      checks,
      facts: { contenders, rounds },
    };
  } finally {
    for (const a of agents) a.destroy();
  }
};
