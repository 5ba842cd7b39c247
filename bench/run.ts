/**
 * `npm run bench` — load scenarios against servers this script starts, beside the ceilings
 * that bound them, on the same machine in the same run. See bench/README.md.
 *
 *   --scenario <name[,name]>   streams, poll, seatmap, sections, seatmap-section, seatmap-sections, dates, hold-spread, pay, hold-best, hold-contended, best-contended, charge, join, rush, stadium, line, sale-day (default: all but line, and stadium and sale-day only with --smoke)
 *   --stadium-users N          users in the stadium's line (default 100,000; 1,000 with --smoke)
 *   --stadium-seats N          seats of the stadium's show (default 50,000; 2,000 with --smoke)
 *   --line-size N              how far the line scenario grows its line (default 1,000,000)
 *   --minutes N                how long the soak runs (default 30; 1 with --smoke)
 *   --mode embedded|cluster    default cluster
 *   --instances N[,N]          app instances in cluster mode, one run per count (default 1,2)
 *   --duration S               seconds per measured load (default 10)
 *   --connections N            wrk connections in all, split over the instances (default 64)
 *   --no-ceilings              skip the ceilings (ratios then read "–")
 *   --smoke                    every scenario, ~1 s each, small sizes (CI)
 *   --cpu-prof                 start the servers with --cpu-prof (profiles in bench/results/profiles)
 */
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { openDatabase } from '../src/db/client.js';
import { type Ceiling, measureHttpCeilings, measureSqlCeilings } from './ceilings/ceilings.js';
import { Api } from './lib/api.js';
import { machineFacts } from './lib/machine.js';
import { markdown, met, type Run } from './lib/report.js';
import {
  buildServer,
  Cleanup,
  createScratchDatabase,
  type Mode,
  PG_ADMIN_URL,
  REDIS_URL,
  startCluster,
} from './lib/servers.js';
import { bestContended } from './scenarios/best-contended.js';
import { charge } from './scenarios/charge.js';
import { dates } from './scenarios/dates.js';
import { holdBest } from './scenarios/hold-best.js';
import { holdContended } from './scenarios/hold-contended.js';
import { holdSpread } from './scenarios/hold-spread.js';
import { join as joinScenario } from './scenarios/join.js';
import { line } from './scenarios/line.js';
import { overload } from './scenarios/overload.js';
import { pay } from './scenarios/pay.js';
import { poll } from './scenarios/poll.js';
import { rush } from './scenarios/rush.js';
import { saleDay } from './scenarios/sale-day.js';
import type { Scenario, ScenarioContext, ScenarioResult } from './scenarios/scenario.js';
import { seatmap } from './scenarios/seatmap.js';
import { seatmapSection, seatmapSections, sections } from './scenarios/sections.js';
import { soak } from './scenarios/soak.js';
import { stadium } from './scenarios/stadium.js';
import { streams } from './scenarios/streams.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * In run order. join comes late: its hundreds of thousands of never-polling waiters would
 * otherwise be dropped as idle by the admission ticker while later scenarios measure.
 */
// Run in this order. `streams` comes first: it measures what 10,000 open streams cost an
// instance (CPU, RSS), so it runs on instances that have served nothing else yet, not on the
// heap the write scenarios leave behind.
const SCENARIOS: Record<string, Scenario> = {
  streams,
  poll,
  seatmap,
  // Issue 17's venue reads, right after the 50-seat seat map they are compared with.
  sections,
  'seatmap-section': seatmapSection,
  dates,
  'hold-spread': holdSpread,
  pay,
  // After pay, so hold-spread's tokens are not kept waiting; compared with hold-spread.
  'hold-best': holdBest,
  'hold-contended': holdContended,
  'best-contended': bestContended,
  // Late: re-rendering 30 answers of 2,000 seats a second keeps the servers busy a while after.
  'seatmap-sections': seatmapSections,
  charge,
  join: joinScenario,
  overload,
  rush,
  stadium,
  line,
  'sale-day': saleDay,
  soak,
};

/** Scenarios that start instances of their own, once per run, after the others (run.ts stops the run's first). */
const OWN_INSTANCES = ['rush', 'stadium', 'sale-day', 'soak'];

const DEFAULT_POOL = 10;
/**
 * Ports the bench may take: away from the usual development ports and below Linux's
 * ephemeral range (32768 and up), where outgoing connections would take them meanwhile.
 */
const PORT_RANGE = { from: 20_000, to: 32_000 };

function progress(message: string): void {
  const line = `[bench ${new Date().toISOString().slice(11, 19)}] ${message}`;
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
  else process.stderr.write(`${line}\n`);
}

async function versions(mode: Mode): Promise<{ postgres: string | null; redis: string | null }> {
  if (mode === 'embedded') {
    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create();
    const v =
      (await db.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? null;
    await db.close();
    return { postgres: v ? `${v} (PGlite)` : null, redis: null };
  }
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  const postgres =
    (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? null;
  await c.end();
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  await redis.connect();
  const info = await redis.info('server');
  redis.disconnect();
  return { postgres, redis: /redis_version:(\S+)/.exec(info)?.[1] ?? null };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The first of `count` consecutive free loopback ports, picked at random: several people (or
 * runs) share this machine, so no fixed port is safe.
 */
async function freePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = randomInt(PORT_RANGE.from, PORT_RANGE.to - count);
    let free = true;
    for (let i = 0; i < count && free; i++) free = await portFree(base + i);
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/** Whether autovacuum may analyse the bench's tables behind its back (it is off on these machines). */
async function autovacuum(): Promise<string> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return (await c.query<{ v: string }>("SELECT current_setting('autovacuum') AS v")).rows[0]?.v ?? '?';
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string' },
      mode: { type: 'string', default: 'cluster' },
      instances: { type: 'string', default: '1,2' },
      duration: { type: 'string' },
      connections: { type: 'string', default: '64' },
      smoke: { type: 'boolean', default: false },
      'no-ceilings': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      'skip-build': { type: 'boolean', default: false },
      'line-size': { type: 'string' },
      'stadium-users': { type: 'string' },
      'stadium-seats': { type: 'string' },
      minutes: { type: 'string' },
    },
  });
  const mode = values.mode as Mode;
  if (mode !== 'embedded' && mode !== 'cluster') throw new Error('--mode is embedded or cluster');
  const smoke = values.smoke;
  const durationSeconds = Number(values.duration ?? (smoke ? 1 : 10));
  const connections = Number(values.connections);
  const counts = mode === 'embedded' ? [1] : values.instances.split(',').map(Number);
  // Run only when named: `line` grows one line to a million (minutes), a full `sale-day`
  // waits two minutes for its opening, and a full `stadium` sells 50,000 seats to a line of
  // 100,000 (minutes); their smokes (200 users, opening in 15 s; 2,000 seats, 1,000 users) run
  // with the rest, so CI proves both end to end.
  const whenNamed = ['sale-day', 'stadium', 'soak'];
  const names = values.scenario
    ? values.scenario.split(',')
    : Object.keys(SCENARIOS).filter((n) => n !== 'line' && (smoke || !whenNamed.includes(n)));
  for (const n of names)
    if (!SCENARIOS[n]) throw new Error(`unknown scenario ${n}; one of ${Object.keys(SCENARIOS).join(', ')}`);
  if (!(durationSeconds > 0 && durationSeconds <= 600)) throw new Error('--duration is 0..600 s');
  for (const n of counts) if (!(n >= 1 && n <= 16)) throw new Error('--instances is 1..16 (or a list)');
  const warmupSeconds = smoke ? 0 : Math.min(3, Math.max(1, Math.round(durationSeconds / 4)));

  const cleanup = new Cleanup();
  const onSignal = () => {
    progress('interrupted: cleaning up');
    void cleanup.runAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const workDir = mkdtempSync(join(tmpdir(), 'boxoffice-bench-work-'));
  cleanup.add('remove work dir', () => rmSync(workDir, { recursive: true, force: true }));

  try {
    const started = new Date();
    const v = await versions(mode);
    const machine = machineFacts(v.postgres, v.redis);
    // Plans must not depend on statistics nobody gathered (issue 12): the bench never runs
    // ANALYZE on the app's database, which is created empty for each run.
    const database =
      mode === 'cluster'
        ? `a new scratch database per run, never analysed by the bench (autovacuum ${await autovacuum()})`
        : 'embedded PGlite in a new directory, never analysed by the bench';
    if (!values['skip-build']) {
      progress('building (tsc -p tsconfig.build.json)');
      await buildServer(root);
    }
    const profileDir = join(root, 'bench', 'results', 'profiles');
    if (values['cpu-prof']) mkdirSync(profileDir, { recursive: true });

    const runs: Run[] = [];
    // The rush starts instances of its own and takes minutes: once, on the most instances.
    const rushOn = Math.max(...counts);
    for (const instances of counts) {
      const runNames = names.filter((n) => !OWN_INSTANCES.includes(n) || instances === rushOn);
      const ceilings = values['no-ceilings']
        ? []
        : await measureCeilings({ mode, instances, connections, durationSeconds, warmupSeconds, workDir });
      const results = await runScenarios(runNames, {
        mode,
        instances,
        connections,
        durationSeconds,
        warmupSeconds,
        workDir,
        smoke,
        nodeArgs: values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
        cleanup,
        lineSize: Number(values['line-size'] ?? 1_000_000),
        stadiumUsers: values['stadium-users'] ? Number(values['stadium-users']) : undefined,
        stadiumSeats: values['stadium-seats'] ? Number(values['stadium-seats']) : undefined,
        soakMinutes: Number(values.minutes ?? 30),
      });
      runs.push({ instances, ceilings, results });
    }

    const targetsApply = mode === 'cluster' && !smoke;
    const title = `boxoffice bench — ${mode}, ${counts.join(' and ')} instance(s), ${durationSeconds} s per load, ${connections} connections${smoke ? ' (smoke)' : ''}`;
    const table = markdown(title, machine, database, runs, targetsApply);
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    console.log(`\n${table}\n`);
    const resultsDir = join(root, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `${started.toISOString().replace(/[:.]/g, '-')}-${mode}.json`);
    writeFileSync(
      file,
      `${JSON.stringify(
        {
          startedAt: started.toISOString(),
          command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
          options: { mode, instances: counts, durationSeconds, connections, smoke, scenarios: names },
          machine,
          database,
          runs: runs.map((run) => ({
            ...run,
            results: run.results.map((r) => ({ ...r, met: targetsApply ? met(r, run) : null })),
          })),
          markdown: table,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`Full result: ${file}`);
    const failedChecks = runs.some((run) => run.results.some((r) => r.checks.some((c) => !c.ok)));
    process.exitCode = failedChecks ? 1 : 0;
  } finally {
    await cleanup.runAll();
  }
}

interface RunSettings {
  mode: Mode;
  instances: number;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  workDir: string;
}

/** The ceilings for this many instances, on servers of their own, stopped before the app starts. */
async function measureCeilings(o: RunSettings): Promise<Ceiling[]> {
  const cleanup = new Cleanup();
  try {
    const databaseUrl = o.mode === 'cluster' ? await createScratchDatabase(cleanup) : null;
    const options = {
      root,
      instances: o.instances,
      basePort: await freePorts(o.instances),
      databaseUrl,
      redisUrl: o.mode === 'cluster' ? REDIS_URL : null,
      poolSize: DEFAULT_POOL,
      connections: o.connections,
      durationSeconds: o.durationSeconds,
      warmupSeconds: o.warmupSeconds,
      workDir: o.workDir,
      progress: (m: string) => progress(`[${o.instances}] ${m}`),
    };
    const ceilings: Ceiling[] = [];
    if (databaseUrl) {
      progress(`[${o.instances}] ceilings hold/charge/pay SQL: migrating a scratch database`);
      const db = await openDatabase({ url: databaseUrl, dataDir: 'memory' });
      await db.close();
      ceilings.push(...(await measureSqlCeilings(options)));
    }
    ceilings.unshift(...(await measureHttpCeilings(options, cleanup)));
    return ceilings;
  } finally {
    await cleanup.runAll();
  }
}

/** Starts this many instances, runs the scenarios in order on them, and stops them. */
async function runScenarios(
  names: string[],
  o: RunSettings & {
    smoke: boolean;
    nodeArgs: string[];
    cleanup: Cleanup;
    lineSize: number;
    stadiumUsers: number | undefined;
    stadiumSeats: number | undefined;
    soakMinutes: number;
  },
): Promise<ScenarioResult[]> {
  const say = (m: string) => progress(`[${o.instances}] ${m}`);
  const adminKey = randomBytes(12).toString('hex');
  const authSecret = randomBytes(24).toString('hex');
  say(`starting ${o.instances} instance(s), ${o.mode} mode`);
  const clusterCleanup = new Cleanup();
  o.cleanup.add('app cluster', () => clusterCleanup.runAll());
  try {
    const cluster = await startCluster(
      {
        root,
        mode: o.mode,
        instances: o.instances,
        adminKey,
        authSecret,
        nodeArgs: o.nodeArgs,
      },
      clusterCleanup,
    );
    const ctx: ScenarioContext = {
      api: new Api(
        cluster.instances.map((i) => i.url),
        adminKey,
      ),
      cluster,
      durationSeconds: o.durationSeconds,
      warmupSeconds: o.warmupSeconds,
      connections: o.connections,
      smoke: o.smoke,
      authSecret,
      workDir: o.workDir,
      serverPids: cluster.instances.map((i) => i.pid),
      progress: say,
      shared: new Map<string, unknown>([
        ['lineSize', o.lineSize],
        ['stadiumUsers', o.stadiumUsers],
        ['stadiumSeats', o.stadiumSeats],
        ['soakMinutes', o.soakMinutes],
      ]),
    };
    const results: ScenarioResult[] = [];
    let ownInstancesStopped = false;
    for (const name of Object.keys(SCENARIOS).filter((n) => names.includes(n))) {
      if (OWN_INSTANCES.includes(name) && !ownInstancesStopped) {
        // The rush and sale day start instances of their own (harness/cluster.ts): stop these
        // first, once, after checking none died during the scenarios before.
        for (const i of cluster.instances) {
          if (i.child.exitCode !== null) throw new Error(`instance ${i.url} died:\n${i.output()}`);
        }
        await clusterCleanup.runAll();
        ownInstancesStopped = true;
      }
      say(`${name}: setting up`);
      const result = await SCENARIOS[name]!(ctx).catch((error: Error) => {
        const dead = cluster.instances.filter((i) => i.child.exitCode !== null);
        for (const i of dead) console.error(`\ninstance ${i.url} exited ${i.child.exitCode}:\n${i.output()}`);
        throw error;
      });
      results.push(result);
      say(
        `${name}: ${Math.round(result.load.perSecond)} ${result.unit}, p99 ${result.load.latencyMs.p99.toFixed(1)} ms`,
      );
      if (process.stderr.isTTY) process.stderr.write('\n');
    }
    for (const i of cluster.instances) {
      if (
        i.child.exitCode !== null &&
        i.child.signalCode === null &&
        !names.some((n) => OWN_INSTANCES.includes(n))
      ) {
        throw new Error(`instance ${i.url} died:\n${i.output()}`);
      }
    }
    return results;
  } finally {
    await clusterCleanup.runAll();
  }
}

main().catch((error) => {
  console.error(`\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
