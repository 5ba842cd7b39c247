import { type Api, signedUsers } from '../lib/api.js';
import type { Cluster } from '../lib/servers.js';
import type { LoadResult } from '../lib/stats.js';

/** Which measured ceiling bounds a scenario (see bench/ceilings). */
export type CeilingName = 'http' | 'redis' | 'pg' | 'holdSql' | 'chargeSql' | 'paySql';

export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface ScenarioResult {
  name: string;
  /** What `load.perSecond` counts: "req/s", "holds/s", "payments/s". */
  unit: string;
  load: LoadResult;
  ceiling: CeilingName | null;
  checks: Check[];
  /** Free-form facts worth keeping (sizes, rounds, sold-out time). */
  facts?: Record<string, unknown>;
}

export interface ScenarioContext {
  api: Api;
  cluster: Cluster;
  durationSeconds: number;
  /** Unmeasured load before each measured one (0 in smoke runs). */
  warmupSeconds: number;
  connections: number;
  smoke: boolean;
  authSecret: string;
  workDir: string;
  serverPids: number[];
  progress: (message: string) => void;
  /** State one scenario leaves for a later one (hold-spread's holds for pay). */
  shared: Map<string, unknown>;
}

export type Scenario = (ctx: ScenarioContext) => Promise<ScenarioResult>;

/** Responses with a 5xx status, as counted by the load generator. */
export function serverErrors(counts: Record<string, number>): number {
  return Object.entries(counts)
    .filter(([k]) => k.startsWith('5'))
    .reduce((a, [, v]) => a + v, 0);
}

export function noServerErrors(load: LoadResult): Check {
  const n = serverErrors(load.counts);
  const sockets = Object.values(load.socketErrors).reduce((a, b) => a + b, 0);
  return {
    name: 'no 5xx and no socket errors',
    ok: n === 0 && sockets === 0,
    detail: `${n} 5xx, socket errors ${JSON.stringify(load.socketErrors)}`,
  };
}

/** A check that every measured request got `status` (e.g. every hold of a free seat won). */
export function allAnswered(load: LoadResult, status: string, name: string): Check {
  const n = load.counts[status] ?? 0;
  return { name, ok: n === load.requests, detail: `${n}/${load.requests}` };
}

/** The parts of a wrk load every scenario takes from its context. */
export function loadSettings(ctx: ScenarioContext) {
  return {
    connections: ctx.connections,
    durationSeconds: ctx.durationSeconds,
    warmupSeconds: ctx.warmupSeconds,
    workDir: ctx.workDir,
    serverPids: ctx.serverPids,
  };
}

/** The seat readers' shape: the rush's concert (3 dates × 50 seats) and 500 admitted users. */
const READ_DATES = 3;
const READ_SEATS = 50;
const READERS = 500;

/**
 * A concert of the rush's shape and users admitted to it, for the scenarios that read seat
 * state; the line is opened wide so everyone gets in at once.
 */
export async function admittedReaders(ctx: ScenarioContext, name: string) {
  const concert = await ctx.api.createConcert(READ_DATES, READ_SEATS, 1000, `bench ${name}`);
  ctx.cluster.trackConcert(concert.concertId);
  await ctx.api.setQueue(concert.concertId, { maxActive: 1_000_000, admitPerSecond: 100_000 });
  const users = signedUsers(ctx.authSecret, ctx.smoke ? 100 : READERS);
  ctx.progress(`${name}: ${users.length} users join and get in`);
  await ctx.api.join(users, concert.concertId, 64);
  await ctx.api.waitActive(users);
  return { concert, users };
}
