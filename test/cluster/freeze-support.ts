import type { Cluster } from '../../harness/cluster.js';
import type { ClusterClient } from '../../harness/http.js';
import { eventually, sleep } from '../../harness/wait.js';
import { type Buyer, createConcert, gated, join, signUp, untilActive } from './support.js';

/**
 * What the two freeze suites share (issue 19 item 3): probes aimed straight at each instance
 * (no retries, no failover: what a load balancer or a browser would see) on every path a buyer
 * uses, timed one by one, while a store is frozen with SIGSTOP; and the time until each
 * instance serves normally again after the thaw.
 */

export interface ProbeAnswer {
  instance: number;
  path: 'poll' | 'join' | 'seats' | 'balance' | 'ready' | 'live';
  status: number;
  code: string | undefined;
  ms: number;
  /** Which round of probes it belongs to. */
  round: number;
  /**
   * `ms` less what /health/live took in the same round on the same instance: /health/live
   * touches no store, so its time is the machine's (a loaded shared machine, the test's own
   * event loop), and what is left is roughly what the store cost.
   */
  storeMs: number;
  /**
   * The instance's own time on the request (its `Server-Timing: app;dur=`): from reading the
   * request to sending the answer, with no share of the test's event loop or of the kernel's
   * queues. The bounds are asserted on this; `ms` is reported beside it.
   */
  serverMs: number;
}

export interface Probes {
  concertId: string;
  date: string;
  /** ACTIVE in the probe concert's line: polls and reads the seat map. */
  buyer: Buyer;
  /** Holds a token in the probe line: joins again (the same token comes back). */
  joiner: Buyer;
  /** Reads a balance: PostgreSQL only. */
  witness: Buyer;
}

/** A concert of the probes' own, a buyer admitted to it, each path answered once (warm caches). */
export async function prepareProbes(
  cluster: Cluster,
  client: ClusterClient,
  adminKey: string,
): Promise<Probes> {
  const { concertId, date } = await createConcert(client, adminKey, 20);
  const buyer = await signUp(client);
  await join(client, buyer, concertId);
  await untilActive(client, buyer);
  const joiner = await signUp(client);
  await join(client, joiner, concertId);
  const witness = await signUp(client);
  const probes = { concertId, date, buyer, joiner, witness };
  // Every instance answers every path, so each has read what it keeps (that the concert exists,
  // its show and seat map) as a running sale's instances would have. A fresh instance on a busy
  // machine may still be opening its first connections: until then it answers 503.
  await eventually(async () => (await probeOnce(cluster, probes)).every((a) => a.status === 200), {
    timeoutMs: 30_000,
    everyMs: 200,
    what: 'every probe path answered 200 on every instance',
  });
  return probes;
}

async function timed(
  instance: number,
  path: ProbeAnswer['path'],
  url: string,
  init: RequestInit,
): Promise<Omit<ProbeAnswer, 'round' | 'storeMs'>> {
  const started = performance.now();
  // Far above any bound asserted: a request that waits as long as the store does is measured, not cut.
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  const ms = performance.now() - started;
  const serverMs = Number(/dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1] ?? Number.NaN);
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { code?: string }).code;
  } catch {
    code = undefined;
  }
  return { instance, path, status: res.status, code, ms, serverMs };
}

let rounds = 0;

/** Every probe path once on every instance, all at once. */
export async function probeOnce(cluster: Cluster, probes: Probes): Promise<ProbeAnswer[]> {
  const { concertId, date, buyer, joiner, witness } = probes;
  const round = rounds++;
  const answers = await Promise.all(
    cluster.urls.flatMap((base, instance) => [
      timed(instance, 'live', `${base}/health/live`, {}),
      timed(instance, 'poll', `${base}/api/v1/queue/status`, { headers: gated(buyer) }),
      timed(instance, 'join', `${base}/api/v1/queue/tokens`, {
        method: 'POST',
        headers: { ...joiner.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ concertId }),
      }),
      timed(instance, 'seats', `${base}/api/v1/concerts/${concertId}/dates/${date}/seats`, {
        headers: gated(buyer),
      }),
      timed(instance, 'balance', `${base}/api/v1/balance`, { headers: witness.auth }),
      timed(instance, 'ready', `${base}/health/ready`, {}),
    ]),
  );
  return answers.map((a) => {
    const live = answers.find((b) => b.path === 'live' && b.instance === a.instance)!;
    return { ...a, round, storeMs: Math.max(0, a.ms - live.ms) };
  });
}

/** Probes every `everyMs` for `forMs`, each round started whether or not the last has answered. */
export async function probeFor(
  cluster: Cluster,
  probes: Probes,
  forMs: number,
  everyMs = 500,
): Promise<ProbeAnswer[]> {
  const rounds: Promise<ProbeAnswer[]>[] = [];
  const until = Date.now() + forMs;
  while (Date.now() < until) {
    rounds.push(probeOnce(cluster, probes));
    await sleep(everyMs);
  }
  return (await Promise.all(rounds)).flat();
}

/**
 * Milliseconds from now until a whole round of probes, on every instance, answers as a healthy
 * service does (everything 200), polled every 100 ms; null if not within `limitMs`.
 */
export async function recoveryMs(
  cluster: Cluster,
  probes: Probes,
  limitMs: number,
): Promise<{ ms: number | null; lastFailures: ProbeAnswer[] }> {
  const started = Date.now();
  let lastFailures: ProbeAnswer[] = [];
  while (Date.now() - started < limitMs + 2_000) {
    const round = await probeOnce(cluster, probes);
    lastFailures = round.filter((a) => a.status !== 200);
    if (lastFailures.length === 0) return { ms: Date.now() - started, lastFailures };
    await sleep(100);
  }
  return { ms: null, lastFailures };
}

/** One line per path: answers by status, and the slowest. */
export function summarize(answers: ProbeAnswer[]): string {
  const byPath = new Map<string, ProbeAnswer[]>();
  for (const a of answers) byPath.set(a.path, [...(byPath.get(a.path) ?? []), a]);
  return [...byPath]
    .map(([path, list]) => {
      const statuses = new Map<string, number>();
      for (const a of list) {
        const key = a.code ? `${a.status} ${a.code}` : String(a.status);
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      }
      const slowest = Math.max(...list.map((a) => a.ms));
      const slowestStore = Math.max(...list.map((a) => a.storeMs));
      const slowestServer = Math.max(...list.map((a) => a.serverMs));
      const median = [...list].sort((a, b) => a.ms - b.ms)[Math.floor(list.length / 2)]!.ms;
      return `${path}: ${[...statuses].map(([k, n]) => `${n}× ${k}`).join(', ')}; at the test median ${median.toFixed(0)} ms, slowest ${slowest.toFixed(0)} ms (${slowestStore.toFixed(0)} ms beyond /health/live); in the instance slowest ${slowestServer.toFixed(0)} ms`;
    })
    .join('\n');
}
