import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { type BenchUser, signedUsers } from '../lib/api.js';
import { cpuSeconds, machineTicks } from '../lib/machine.js';
import { summarize } from '../lib/stats.js';
import type { Check, Scenario } from './scenario.js';

/** Open event streams one instance holds on one line (issue 11 item 3). */
const STREAMS = 10_000;
const SMOKE_STREAMS = 200;
/** Streams being opened at once. */
const OPENING = 500;
/** How long the streams wait with the line still, while CPU and memory are measured. */
const WAIT_SECONDS = 20;
const SMOKE_WAIT_SECONDS = 3;
const HEARTBEAT_MAX_GAP_MS = 15_000;
const ACTIVE_WITHIN_MS = 2_000;
const CPU_LIMIT_CORES = 0.5;
const RSS_LIMIT_MB = 400;

interface Stream {
  socket: Socket;
  events: number;
  lastEventAt: number;
  maxGapMs: number;
  activeAt: number | null;
  failed: string | null;
}

function tally(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/**
 * A minimal SSE client on a raw socket: counts events, the longest silence between them, and
 * when ACTIVE arrived. 10,000 of these in one process cost a few MB; fetch would cost far more.
 */
function openStream(url: URL, token: string, onFirst: () => void): Stream {
  const stream: Stream = {
    socket: connect(Number(url.port), url.hostname),
    events: 0,
    lastEventAt: 0,
    maxGapMs: 0,
    activeAt: null,
    failed: null,
  };
  let head = true;
  let tail = '';
  stream.socket.setEncoding('utf8');
  stream.socket.on('connect', () => {
    stream.socket.write(
      `GET /api/v1/queue/events?token=${encodeURIComponent(token)} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`,
    );
  });
  stream.socket.on('data', (chunk: string) => {
    let text = tail + chunk;
    if (head) {
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) {
        tail = text;
        return;
      }
      const status = text.slice(9, 12);
      if (status !== '200') {
        stream.failed = `HTTP ${status}`;
        onFirst();
        stream.socket.destroy();
        return;
      }
      head = false;
      text = text.slice(end + 4);
    }
    const now = Date.now();
    for (let i = text.indexOf('data: '); i >= 0; i = text.indexOf('data: ', i + 6)) {
      const end = text.indexOf('\n', i);
      if (end < 0) break;
      if (stream.events === 0) {
        if (!text.slice(i, end).includes('"status":"WAITING"')) stream.failed = 'first event not WAITING';
        onFirst();
      } else stream.maxGapMs = Math.max(stream.maxGapMs, now - stream.lastEventAt);
      stream.events++;
      stream.lastEventAt = now;
      if (text.slice(i, end).includes('"status":"ACTIVE"')) stream.activeAt = now;
    }
    tail = text.slice(text.lastIndexOf('\n') + 1);
  });
  stream.socket.on('error', (error) => {
    stream.failed ??= error.message;
  });
  stream.socket.on('close', () => {
    if (stream.activeAt === null) stream.failed ??= 'closed before ACTIVE';
  });
  return stream;
}

/**
 * One instance holds 10,000 event streams on one line (the line paused, so they wait): the
 * server's CPU and RSS are read from /proc while they wait, every stream must keep getting
 * heartbeats, and once the line opens every stream must get ACTIVE within 2 s of admission.
 */
export const streams: Scenario = async (ctx) => {
  const count = ctx.smoke ? SMOKE_STREAMS : STREAMS;
  const waitSeconds = ctx.smoke ? SMOKE_WAIT_SECONDS : WAIT_SECONDS;
  const instance = ctx.cluster.instances[0]!;
  const url = new URL(instance.url);
  const concert = await ctx.api.createConcert(1, 50, 1000, 'bench streams');
  ctx.cluster.trackConcert(concert.concertId);
  await ctx.api.setQueue(concert.concertId, { paused: true });
  const users: BenchUser[] = signedUsers(ctx.authSecret, count);
  // The embedded database lives in the server process (PGlite, a few hundred MB of its own):
  // there the budget applies to what the streams add.
  const baselineRss = rssMb(instance.pid);
  const rssBudgetFrom = ctx.cluster.databaseUrl ? 0 : baselineRss;
  ctx.progress(`streams: ${count} users join and open their event streams on ${instance.url}`);
  const open: Stream[] = [];
  for (let i = 0; i < users.length; i += OPENING) {
    // A batch joins, then opens its streams at once: a waiter must be seen within the idle
    // timeout, and joining 10,000 on a busy machine can take longer than that.
    const batch = users.slice(i, i + OPENING);
    await ctx.api.join(batch, concert.concertId, 64);
    await new Promise<void>((resolve) => {
      let pending = batch.length;
      const done = () => {
        if (--pending === 0) resolve();
      };
      for (const u of batch) open.push(openStream(url, u.queueToken!, done));
    });
  }
  const refused = open.filter((s) => s.failed !== null);

  ctx.progress(`streams: ${open.length - refused.length} open; measuring ${waitSeconds} s of waiting`);
  const cpuBefore = cpuSeconds([instance.pid]);
  const machineBefore = machineTicks();
  const started = Date.now();
  let peakRss = rssMb(instance.pid);
  for (let t = 0; t < waitSeconds; t++) {
    await new Promise((r) => setTimeout(r, 1000));
    peakRss = Math.max(peakRss, rssMb(instance.pid));
  }
  const wall = (Date.now() - started) / 1000;
  const cpuCores = (cpuSeconds([instance.pid]) - cpuBefore) / wall;
  const machine = machineTicks();
  const machineBusyCores =
    ((machine.busy - machineBefore.busy) / Math.max(1, machine.total - machineBefore.total)) *
    (readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? 1);
  const maxGapMs = Math.max(
    0,
    ...open.map((s) => (s.events > 0 ? Math.max(s.maxGapMs, Date.now() - s.lastEventAt) : 0)),
  );

  ctx.progress('streams: opening the line to everyone');
  const openedAt = Date.now();
  await ctx.api.setQueue(concert.concertId, { paused: false, maxActive: count, admitPerSecond: count });
  const deadline = Date.now() + 30_000;
  let allAdmittedAt = 0;
  while (Date.now() < deadline) {
    const line = await ctx.api.ok<{ active: number; waiting: number }>(
      'GET',
      `/api/v1/admin/concerts/${concert.concertId}/queue`,
      { headers: ctx.api.admin() },
    );
    if (allAdmittedAt === 0 && line.waiting === 0) allAdmittedAt = Date.now();
    if (open.every((s) => s.failed !== null || s.activeAt !== null)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (allAdmittedAt === 0) allAdmittedAt = Date.now();
  const delivered = open.filter((s) => s.activeAt !== null);
  // Admission takes a few ticker steps; a stream's own admission lies between the opening
  // and the moment the line was empty, so arrival minus that moment bounds its delay.
  const lateness = delivered.map((s) => s.activeAt! - allAdmittedAt);
  const fromOpening = summarize(delivered.map((s) => s.activeAt! - openedAt));
  for (const s of open) s.socket.destroy();

  const checks: Check[] = [
    {
      name: 'every stream opened and WAITING',
      ok: refused.length === 0,
      detail: `${refused.length} not: ${JSON.stringify(tally(refused.map((s) => s.failed ?? '')))}`,
    },
    {
      name: `server under ${CPU_LIMIT_CORES * 100}% of a core while waiting`,
      ok: cpuCores < CPU_LIMIT_CORES,
      detail: `${(cpuCores * 100).toFixed(1)}%`,
    },
    {
      name: `server RSS under ${RSS_LIMIT_MB} MB${rssBudgetFrom ? ' above the embedded database' : ''}`,
      ok: peakRss - rssBudgetFrom < RSS_LIMIT_MB,
      detail: `${peakRss.toFixed(0)} MB (${baselineRss.toFixed(0)} MB before the streams)`,
    },
    {
      name: `every stream ACTIVE within ${ACTIVE_WITHIN_MS / 1000} s of admission`,
      ok: delivered.length === open.length && Math.max(0, ...lateness) <= ACTIVE_WITHIN_MS,
      detail: `${delivered.length}/${open.length}, latest ${Math.max(0, ...lateness)} ms after the line emptied`,
    },
  ];
  if (waitSeconds > HEARTBEAT_MAX_GAP_MS / 1000) {
    checks.push({
      name: `heartbeats at most ${HEARTBEAT_MAX_GAP_MS / 1000} s apart`,
      ok: maxGapMs <= HEARTBEAT_MAX_GAP_MS,
      detail: `longest silence ${maxGapMs} ms`,
    });
  }
  return {
    name: 'streams',
    unit: 'streams',
    load: {
      requests: open.length,
      seconds: wall,
      perSecond: open.length - refused.length,
      latencyMs: fromOpening,
      counts: { '200': open.length - refused.length, ...(refused.length ? { refused: refused.length } : {}) },
      socketErrors: {},
      serverCpuPerCore: cpuCores,
      machineBusyCores,
    },
    ceiling: null,
    checks,
    facts: {
      streams: open.length,
      waitSeconds,
      serverCpuPercentOfCore: Number((cpuCores * 100).toFixed(1)),
      serverRssMb: Math.round(peakRss),
      serverRssBeforeMb: Math.round(baselineRss),
      longestSilenceMs: maxGapMs,
      activeLatencyFromOpeningMs: fromOpening,
      lineEmptiedAfterMs: allAdmittedAt - openedAt,
    },
  };
};
