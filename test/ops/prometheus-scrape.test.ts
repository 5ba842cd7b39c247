import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { addDays, todayUtc } from '../../src/concerts/dates.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import type { App } from '../../src/http/types.js';
import { MemoryQueueStore } from '../../src/queue/memory-queue-store.js';
import { queueOptions } from '../../src/queue/queue-options.js';
import { startApp, testConfig } from '../helpers/app.js';

/**
 * A real Prometheus (Debian's `prometheus` package) on a spare loopback port with its own data
 * directory scrapes two running instances, loads the shipped alerting rules, and answers every
 * query the shipped Grafana dashboard makes.
 */
const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const ROOT = resolve(import.meta.dirname, '../..');
const RULES = join(ROOT, 'deploy/prometheus/boxoffice-rules.yml');
const DASHBOARD = join(ROOT, 'deploy/grafana/boxoffice-dashboard.json');
const ADMIN_KEY = 'prometheus-admin-key';

function sparePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
    server.on('error', reject);
  });
}

async function eventually<T>(
  what: string,
  read: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The PromQL of every dashboard panel, with the dashboard's variables filled in. */
function dashboardQueries(): string[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'));
  return dashboard.panels.flatMap((p: { targets: { expr: string }[] }) =>
    p.targets.map((t) => t.expr.replaceAll('$concert', '.*')),
  );
}

describe('Prometheus and Grafana', () => {
  test('when promtool checks the shipped rules and their unit tests, then both pass', () => {
    expect(existsSync(PROMTOOL), `${PROMTOOL} missing: apt-get install -y prometheus`).toBe(true);
    execFileSync(PROMTOOL, ['check', 'rules', RULES], { stdio: 'pipe' });
    execFileSync(PROMTOOL, ['test', 'rules', join(ROOT, 'deploy/prometheus/boxoffice-rules.test.yml')], {
      stdio: 'pipe',
    });
  });

  describe('a real Prometheus scraping two instances', () => {
    let database: Database;
    const apps: App[] = [];
    const targets: string[] = [];
    let prometheus: ChildProcess | undefined;
    let dataDir = '';
    let api = '';

    beforeAll(async () => {
      expect(existsSync(PROMETHEUS), `${PROMETHEUS} missing: apt-get install -y prometheus`).toBe(true);
      database = await openDatabase({ url: undefined, dataDir: 'memory' });
      const config = testConfig({ ADMIN_KEY, HOST: '127.0.0.1' });
      const store = new MemoryQueueStore(queueOptions(config).timings, queueOptions(config).defaults);
      const secret = randomBytes(32);
      for (let i = 0; i < 2; i++) {
        // The metrics scraped include what the background jobs keep up to date.
        const app = await startApp({ config, database, queueStore: store, secret, backgroundJobs: true });
        await app.listen({ port: 0, host: '127.0.0.1' });
        apps.push(app);
        targets.push(`127.0.0.1:${(app.server.address() as { port: number }).port}`);
      }

      dataDir = mkdtempSync(join(tmpdir(), 'bo-prometheus-'));
      const port = await sparePort();
      api = `http://127.0.0.1:${port}`;
      writeFileSync(
        join(dataDir, 'prometheus.yml'),
        [
          'global:',
          '  scrape_interval: 1s',
          '  evaluation_interval: 1s',
          'rule_files:',
          `  - ${RULES}`,
          'scrape_configs:',
          '  - job_name: boxoffice',
          '    static_configs:',
          `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
        ].join('\n'),
      );
      prometheus = spawn(
        PROMETHEUS,
        [
          `--config.file=${join(dataDir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dataDir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: 'ignore' },
      );
      await eventually('Prometheus to be ready', async () =>
        (await fetch(`${api}/-/ready`)).ok ? true : undefined,
      );
    }, 60_000);

    afterAll(async () => {
      if (prometheus?.pid && prometheus.exitCode === null) {
        const exited = new Promise((r) => prometheus!.once('exit', r));
        prometheus.kill('SIGTERM');
        await exited;
      }
      for (const app of apps) await app.close();
      await database?.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    const query = async (promql: string) => {
      const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await res.json()) as {
        status: string;
        error?: string;
        data: { result: { metric: Record<string, string> }[] };
      };
      if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
      return body.data.result;
    };

    test('when a sale runs on both instances, then Prometheus answers every query the dashboard makes, with both instances in the per-instance metrics', async () => {
      // A sale through both instances: a concert, buyers admitted by the tickers, a hold and a payment on each.
      const [a, b] = apps as [App, App];
      const post = async (app: App, url: string, payload: object, headers: Record<string, string> = {}) =>
        (await app.inject({ method: 'POST', url, payload, headers })).json();
      const { concertId, dates } = await post(
        a,
        '/api/v1/admin/concerts',
        {
          title: 'Scraped',
          venue: 'Hall',
          dates: [{ date: addDays(todayUtc(Date.now()), 30), price: 1000 }],
        },
        { 'admin-key': ADMIN_KEY },
      );
      for (const [i, app] of [a, b].entries()) {
        const { accessToken } = await post(app, '/api/v1/users', { name: `buyer${i}` });
        const auth = { authorization: `Bearer ${accessToken}` };
        const { token } = await post(app, '/api/v1/queue/tokens', { concertId }, auth);
        await eventually('admission', async () => {
          const res = await app.inject({ url: '/api/v1/queue/status', headers: { 'queue-token': token } });
          return res.json().status === 'ACTIVE' ? true : undefined;
        });
        await post(app, '/api/v1/balance/charges', { amount: 5000 }, auth);
        const gated = { ...auth, 'queue-token': token };
        const hold = await post(
          app,
          '/api/v1/reservations',
          { concertId, date: dates[0], seatNumber: i + 1 },
          gated,
        );
        const paid = await post(app, '/api/v1/payments', { reservationId: hold.reservationId }, gated);
        expect(paid.paymentId).toBeDefined();
      }
      // A second line stays waiting, paused: the pause gauge and the waiting gauge have something to say.
      const other = await post(
        b,
        '/api/v1/admin/concerts',
        { title: 'Paused', venue: 'Hall', dates: [{ date: addDays(todayUtc(Date.now()), 31), price: 1000 }] },
        { 'admin-key': ADMIN_KEY },
      );
      await b.inject({
        method: 'PATCH',
        url: `/api/v1/admin/concerts/${other.concertId}/queue`,
        payload: { paused: true },
        headers: { 'admin-key': ADMIN_KEY },
      });
      const { accessToken } = await post(b, '/api/v1/users', { name: 'waiter' });
      await post(
        b,
        '/api/v1/queue/tokens',
        { concertId: other.concertId },
        { authorization: `Bearer ${accessToken}` },
      );

      await eventually('both instances scraped after the sale', async () => {
        const sold = await query(`boxoffice_sales_total{concert_id="${concertId}"}`);
        const up = await query('up{job="boxoffice"} == 1');
        return sold.length === 2 && up.length === 2 ? true : undefined;
      });

      // Every metric the dashboard names has series; the counters come from both instances.
      for (const name of [
        'boxoffice_http_requests_total',
        'boxoffice_http_request_duration_seconds_bucket',
        'boxoffice_holds_total',
        'boxoffice_sales_total',
        'boxoffice_revenue_won_total',
        'boxoffice_queue_admitted_total',
        'boxoffice_queue_waiting',
        'boxoffice_queue_prequeued',
        'boxoffice_queue_active',
        'boxoffice_queue_paused',
        'boxoffice_seats_held',
        'boxoffice_seats_sold',
        'boxoffice_backend_up',
      ]) {
        const series = await query(name);
        const instances = new Set(series.map((s) => s.metric.instance));
        // Admissions are counted by whichever instance's step made them: either may have none.
        if (name === 'boxoffice_queue_admitted_total') expect(instances.size, name).toBeGreaterThan(0);
        else expect([...instances].sort(), name).toEqual([...targets].sort());
      }
      const used = new Set(readFileSync(DASHBOARD, 'utf8').match(/boxoffice_[a-z_]+/g));
      expect(used.size).toBe(13);

      // Every panel's query is valid PromQL and returns data during the sale (rates need two scrapes).
      const empty = async () => {
        const missing = [];
        for (const promql of dashboardQueries()) if ((await query(promql)).length === 0) missing.push(promql);
        return missing;
      };
      await eventually('every panel to have data', async () =>
        (await empty()).length === 0 ? true : undefined,
      ).catch(() => undefined);
      expect(await empty()).toEqual([]);
      expect(await query(`max(boxoffice_queue_paused{concert_id="${other.concertId}"})`)).toHaveLength(1);

      // The alerting rules are loaded and evaluated.
      const rules = (await (await fetch(`${api}/api/v1/rules`)).json()) as {
        data: { groups: { rules: { name: string; health: string }[] }[] };
      };
      const loaded = rules.data.groups.flatMap((g) => g.rules);
      expect(loaded.map((r) => r.name).sort()).toEqual([
        'BoxofficeBackendDown',
        'BoxofficeHigh5xxRate',
        'BoxofficeInstanceDown',
        'BoxofficeLineNotMoving',
        'BoxofficeSlowHolds',
        'BoxofficeSlowPayments',
        'BoxofficeWebhookBacklogGrowing',
        'BoxofficeWebhookFailed',
      ]);
      await eventually('rules evaluated', async () => {
        const now = (await (await fetch(`${api}/api/v1/rules`)).json()) as typeof rules;
        const all = now.data.groups.flatMap((g) => g.rules);
        return all.every((r) => r.health === 'ok') ? true : undefined;
      });
    }, 90_000);
  });
});
