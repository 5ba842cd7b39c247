import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, machineTicks } from './machine.js';
import { type LoadResult, mergeQuantiles } from './stats.js';

/** One prepared request; `headers` are sent as given. */
export interface PreparedRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface WrkLoad {
  /** Base URLs of the instances; connections are split evenly, one wrk process per instance. */
  targets: string[];
  /** Requests, replayed in order; request i goes to target i % targets.length. */
  requests: PreparedRequest[];
  connections: number;
  durationSeconds: number;
  /** Stop once every request was answered once (else start over until the deadline). */
  once: boolean;
  workDir: string;
  name: string;
  /** Process ids whose CPU time is measured over the run (the servers). */
  serverPids: number[];
  /**
   * Seconds of unmeasured load first, so the servers' JIT is warm. With `once`, the warm-up
   * spends its own slice of `requests` (the first tenth), which the measured run skips.
   */
  warmupSeconds?: number;
}

const SCRIPT = join(fileURLToPath(new URL('.', import.meta.url)), 'wrk-script.lua');
const FILLER = '404 NOT_FOUND';

function line(r: PreparedRequest): string {
  const headers = { ...(r.headers ?? {}) };
  let body = '';
  if (r.body !== undefined) {
    body = JSON.stringify(r.body);
    headers['Content-Type'] = 'application/json';
  }
  const h = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('|');
  return `${r.method}\t${r.path}\t${h}\t${body}`;
}

interface WrkJson {
  requests: number;
  bytes: number;
  durationUs: number;
  windowUs: number | null;
  errors: Record<string, number>;
  maxUs: number;
  quantilesUs: number[];
  counts: Record<string, number>;
}

/**
 * Runs wrk, one process per target (wrk speaks to one host:port), each with one thread, and
 * merges their results. wrk is C: it costs far less CPU than the servers it loads (see
 * bench/README.md for the comparison with autocannon).
 */
export async function runWrk(load: WrkLoad): Promise<LoadResult> {
  const warmup = load.warmupSeconds ?? 0;
  if (warmup <= 0) return runOnce(load);
  const cut = load.once ? Math.floor(load.requests.length / 10) : load.requests.length;
  await runOnce({
    ...load,
    name: `${load.name}-warmup`,
    requests: load.requests.slice(0, cut),
    durationSeconds: warmup,
  });
  return runOnce({ ...load, requests: load.once ? load.requests.slice(cut) : load.requests });
}

async function runOnce(load: WrkLoad): Promise<LoadResult> {
  const n = load.targets.length;
  const connectionsEach = Math.max(1, Math.floor(load.connections / n));
  const files = load.targets.map((_, t) => {
    const file = join(load.workDir, `${load.name}-${t}.tsv`);
    const lines: string[] = [];
    for (let i = t; i < load.requests.length; i += n) lines.push(line(load.requests[i]!));
    // Fewer requests than targets (a ceiling's single route): every target replays them all.
    if (lines.length === 0) lines.push(...load.requests.map(line));
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  });
  const cpuBefore = cpuSeconds(load.serverPids);
  const ticksBefore = machineTicks();
  const wrkPids: number[] = [];
  const started = Date.now();
  const outputs = await Promise.all(
    load.targets.map(
      (target, t) =>
        new Promise<WrkJson>((resolve, reject) => {
          const child = spawn(
            'wrk',
            [
              '-t1',
              `-c${connectionsEach}`,
              `-d${Math.max(1, Math.round(load.durationSeconds))}s`,
              '--timeout',
              '10s',
              '-s',
              SCRIPT,
              target,
              '--',
              files[t]!,
              load.once ? '1' : '0',
              '1',
            ],
            { stdio: ['ignore', 'pipe', 'pipe'] },
          );
          if (child.pid) wrkPids.push(child.pid);
          let out = '';
          let err = '';
          child.stdout.on('data', (d) => {
            out += d;
          });
          child.stderr.on('data', (d) => {
            err += d;
          });
          child.on('error', reject);
          child.on('close', (code) => {
            const found = /^BENCHJSON (.*)$/m.exec(out);
            if (code !== 0 || !found) {
              reject(new Error(`wrk exited ${code}: ${err.trim() || out.trim()}`));
              return;
            }
            resolve(JSON.parse(found[1]!) as WrkJson);
          });
        }),
    ),
  );
  const wallSeconds = (Date.now() - started) / 1000;
  const serverCpu = cpuSeconds(load.serverPids) - cpuBefore;
  const ticksAfter = machineTicks();
  const machineBusy = (ticksAfter.busy - ticksBefore.busy) / 100 / wallSeconds;
  const counts: Record<string, number> = {};
  let requests = 0;
  let bytes = 0;
  let fillers = 0;
  for (const o of outputs) {
    requests += o.requests;
    bytes += o.bytes;
    for (const [k, v] of Object.entries(o.counts)) counts[k] = (counts[k] ?? 0) + v;
  }
  if (load.once) {
    // Filler requests (see wrk-script.lua) are not counted by the script itself, but wrk's
    // own request total includes them.
    fillers = requests - Object.values(counts).reduce((a, b) => a + b, 0);
    delete counts[FILLER];
  }
  const answered = Object.values(counts).reduce((a, b) => a + b, 0);
  const windows = outputs.map((o) => o.windowUs);
  const seconds = windows.every((w) => w !== null)
    ? Math.max(...(windows as number[])) / 1e6
    : Math.max(...outputs.map((o) => o.durationUs)) / 1e6;
  const errors: Record<string, number> = {};
  for (const o of outputs)
    for (const [k, v] of Object.entries(o.errors)) if (k !== 'status') errors[k] = (errors[k] ?? 0) + v;
  const q = mergeQuantiles(outputs.map((o) => ({ weight: o.requests, quantilesUs: o.quantilesUs })));
  return {
    requests: answered,
    seconds,
    perSecond: answered / seconds,
    latencyMs: {
      p50: q(0.5),
      p95: q(0.95),
      p99: q(0.99),
      max: Math.max(...outputs.map((o) => o.maxUs)) / 1000,
    },
    counts,
    socketErrors: errors,
    serverCpuPerCore: serverCpu / wallSeconds,
    machineBusyCores: machineBusy,
    fillers,
    // wrk's byte count includes the fillers' small 404s; read scenarios (not `once`) have none.
    wireBytesPerResponse: requests > 0 ? bytes / requests : Number.NaN,
  };
}
