/**
 * `npm run bench` — load scenarios against servers this script starts, beside the ceilings
 * that bound them, on the same machine in the same run. See bench/README.md.
 *
 *   --scenario <name[,name]>   join, poll, seatmap, hold-spread, pay, hold-contended, charge, streams, rush, sale-day (default: all)
 *   --mode embedded|cluster    default cluster
 *   --instances N              app instances in cluster mode (default 2)
 *   --duration S               seconds per measured load (default 10)
 *   --connections N            wrk connections in all, split over the instances (default 64)
 *   --no-ceilings              skip the ceilings (ratios then read "–")
 *   --smoke                    every scenario, ~1 s each, small sizes (CI)
 *   --cpu-prof                 start the servers with --cpu-prof (profiles in bench/results/profiles)
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
import { markdown, met } from './lib/report.js';
import {
  buildServer,
  Cleanup,
  createScratchDatabase,
  type Mode,
  PG_ADMIN_URL,
  REDIS_URL,
  startCluster,
} from './lib/servers.js';
import { charge } from './scenarios/charge.js';
import { holdContended } from './scenarios/hold-contended.js';
import { holdSpread } from './scenarios/hold-spread.js';
import { join as joinScenario } from './scenarios/join.js';
import { pay } from './scenarios/pay.js';
import { poll } from './scenarios/poll.js';
import { rush } from './scenarios/rush.js';
import { saleDay } from './scenarios/sale-day.js';
import type { Scenario, ScenarioContext, ScenarioResult } from './scenarios/scenario.js';
import { seatmap } from './scenarios/seatmap.js';
import { streams } from './scenarios/streams.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * In run order. join comes late: its hundreds of thousands of never-polling waiters would
 * otherwise be dropped as idle by the admission ticker while later scenarios measure.
 */
const SCENARIOS: Record<string, Scenario> = {
  poll,
  seatmap,
  'hold-spread': holdSpread,
  pay,
  'hold-contended': holdContended,
  charge,
  streams,
  join: joinScenario,
  rush,
  'sale-day': saleDay,
};

const CEILING_PORT = 4700;
const DEFAULT_POOL = 10;

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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string' },
      mode: { type: 'string', default: 'cluster' },
      instances: { type: 'string', default: '2' },
      duration: { type: 'string' },
      connections: { type: 'string', default: '64' },
      smoke: { type: 'boolean', default: false },
      'no-ceilings': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      'skip-build': { type: 'boolean', default: false },
    },
  });
  const mode = values.mode as Mode;
  if (mode !== 'embedded' && mode !== 'cluster') throw new Error('--mode is embedded or cluster');
  const smoke = values.smoke;
  const durationSeconds = Number(values.duration ?? (smoke ? 1 : 10));
  const connections = Number(values.connections);
  const instances = mode === 'embedded' ? 1 : Number(values.instances);
  const names = values.scenario ? values.scenario.split(',') : Object.keys(SCENARIOS);
  for (const n of names)
    if (!SCENARIOS[n]) throw new Error(`unknown scenario ${n}; one of ${Object.keys(SCENARIOS).join(', ')}`);
  if (!(durationSeconds > 0 && durationSeconds <= 600)) throw new Error('--duration is 0..600 s');
  if (!(instances >= 1 && instances <= 16)) throw new Error('--instances is 1..16');

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
    if (!values['skip-build']) {
      progress('building (tsc -p tsconfig.build.json)');
      await buildServer(root);
    }

    const ceilings: Ceiling[] = [];
    if (!values['no-ceilings']) {
      const ceilingCleanup = new Cleanup();
      cleanup.add('ceilings', () => ceilingCleanup.runAll());
      const databaseUrl = mode === 'cluster' ? await createScratchDatabase(ceilingCleanup) : null;
      const options = {
        root,
        instances,
        basePort: CEILING_PORT,
        databaseUrl,
        redisUrl: mode === 'cluster' ? REDIS_URL : null,
        poolSize: DEFAULT_POOL,
        connections,
        durationSeconds,
        warmupSeconds: smoke ? 0 : Math.min(3, Math.max(1, Math.round(durationSeconds / 4))),
        workDir,
        progress,
      };
      if (databaseUrl) {
        progress('ceilings hold/charge/pay SQL: migrating a scratch database');
        const db = await openDatabase({ url: databaseUrl, dataDir: 'memory' });
        await db.close();
        ceilings.push(...(await measureSqlCeilings(options)));
      }
      ceilings.unshift(...(await measureHttpCeilings(options, ceilingCleanup)));
      await ceilingCleanup.runAll();
    }

    const adminKey = randomBytes(12).toString('hex');
    const authSecret = randomBytes(24).toString('hex');
    progress(`starting ${instances} instance(s), ${mode} mode`);
    const profileDir = join(root, 'bench', 'results', 'profiles');
    if (values['cpu-prof']) mkdirSync(profileDir, { recursive: true });
    const clusterCleanup = new Cleanup();
    cleanup.add('app cluster', () => clusterCleanup.runAll());
    const cluster = await startCluster(
      {
        root,
        mode,
        instances,
        adminKey,
        authSecret,
        nodeArgs: values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
      },
      clusterCleanup,
    );
    const ctx: ScenarioContext = {
      api: new Api(
        cluster.instances.map((i) => i.url),
        adminKey,
      ),
      cluster,
      durationSeconds,
      warmupSeconds: smoke ? 0 : Math.min(3, Math.max(1, Math.round(durationSeconds / 4))),
      connections,
      smoke,
      authSecret,
      workDir,
      serverPids: cluster.instances.map((i) => i.pid),
      progress,
      shared: new Map(),
    };
    const results: ScenarioResult[] = [];
    for (const name of Object.keys(SCENARIOS).filter((n) => names.includes(n))) {
      if (name === 'rush' || name === 'sale-day') {
        // The rush (and sale day) start instances of their own (harness/cluster.ts): stop these first.
        for (const i of cluster.instances) {
          if (i.child.exitCode !== null) throw new Error(`instance ${i.url} died:\n${i.output()}`);
        }
        await clusterCleanup.runAll();
      }
      progress(`${name}: setting up`);
      const result = await SCENARIOS[name]!(ctx).catch((error: Error) => {
        const dead = cluster.instances.filter((i) => i.child.exitCode !== null);
        for (const i of dead) console.error(`\ninstance ${i.url} exited ${i.child.exitCode}:\n${i.output()}`);
        throw error;
      });
      results.push(result);
      progress(
        `${name}: ${Math.round(result.load.perSecond)} ${result.unit}, p99 ${result.load.latencyMs.p99.toFixed(1)} ms`,
      );
      if (!process.stderr.isTTY) continue;
      process.stderr.write('\n');
    }
    for (const i of cluster.instances) {
      if (
        i.child.exitCode !== null &&
        i.child.signalCode === null &&
        !names.includes('rush') &&
        !names.includes('sale-day')
      ) {
        throw new Error(`instance ${i.url} died:\n${i.output()}`);
      }
    }
    const targetsApply = mode === 'cluster' && instances === 2 && !smoke;
    const title = `boxoffice bench — ${mode}, ${instances} instance(s), ${durationSeconds} s per load, ${connections} connections${smoke ? ' (smoke)' : ''}`;
    const table = markdown(title, machine, ceilings, results, targetsApply);
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
          options: { mode, instances, durationSeconds, connections, smoke, scenarios: names },
          machine,
          ceilings,
          results: results.map((r) => ({ ...r, met: targetsApply ? met(r) : null })),
          markdown: table,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`Full result: ${file}`);
    const failedChecks = results.some((r) => r.checks.some((c) => !c.ok));
    process.exitCode = failedChecks ? 1 : 0;
  } finally {
    await cleanup.runAll();
  }
}

main().catch((error) => {
  console.error(`\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
