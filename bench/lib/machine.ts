import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

const TICKS_PER_SECOND = 100;

/** User + system CPU seconds of these processes so far (0 for any that is gone). */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process has exited
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** What a command printed (wrk --version exits 1 after printing), or null if it did not run. */
/** Busy and total CPU ticks of the whole machine so far (from /proc/stat). */
export function machineTicks(): { busy: number; total: number } {
  const first = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (first[3] ?? 0) + (first[4] ?? 0);
  const total = first.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

function tryRun(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return null;
  return `${r.stdout}${r.stderr}`.trim() || null;
}

export interface MachineFacts {
  cores: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  postgres: string | null;
  redis: string | null;
  wrk: string | null;
  kernel: string | null;
  commit: string | null;
}

export function machineFacts(pgVersion: string | null, redisVersion: string | null): MachineFacts {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres: pgVersion,
    redis: redisVersion,
    wrk: tryRun('wrk', ['--version'])?.split('\n')[0]?.split(' Copyright')[0] ?? null,
    kernel: tryRun('uname', ['-r']),
    commit: tryRun('git', ['rev-parse', '--short', 'HEAD']),
  };
}
