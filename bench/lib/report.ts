import type { Ceiling } from '../ceilings/ceilings.js';
import type { ScenarioResult } from '../scenarios/scenario.js';
import type { MachineFacts } from './machine.js';

/** The targets for cluster mode with 2 instances on a 2-core machine (see bench/README.md). */
export const TARGETS: Record<string, { perSecond?: number; p99Ms?: number; text: string }> = {
  join: { perSecond: 15_000, text: '≥ 15,000 req/s' },
  poll: { perSecond: 20_000, text: '≥ 20,000 req/s' },
  seatmap: { perSecond: 10_000, text: '≥ 10,000 req/s' },
  'hold-spread': { perSecond: 3_000, text: '≥ 3,000 holds/s' },
  pay: { perSecond: 1_500, text: '≥ 1,500 payments/s' },
  'hold-contended': { p99Ms: 50, text: 'p99 ≤ 50 ms, one winner' },
  rush: { text: 'sold out, 0 violations, no 5xx' },
};

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '–');

function countsText(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}: ${int(v)}`)
    .join(', ');
}

export function met(result: ScenarioResult): boolean {
  const target = TARGETS[result.name];
  const checksOk = result.checks.every((c) => c.ok);
  if (!target) return checksOk;
  if (target.perSecond !== undefined && result.load.perSecond < target.perSecond) return false;
  if (target.p99Ms !== undefined && result.load.latencyMs.p99 > target.p99Ms) return false;
  return checksOk;
}

export function markdown(
  title: string,
  machine: MachineFacts,
  ceilings: Ceiling[],
  results: ScenarioResult[],
  targetsApply: boolean,
): string {
  const lines: string[] = [];
  lines.push(`### ${title}`, '');
  lines.push(
    `Machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGb} GB, Node ${machine.node}, ` +
      `PostgreSQL ${machine.postgres ?? 'n/a'}, Redis ${machine.redis ?? 'n/a'}, ${machine.wrk ?? 'wrk ?'}, commit ${machine.commit ?? '?'}`,
    '',
  );
  lines.push('| ceiling | what | rate/s | p50 ms | p99 ms |', '|---|---|---:|---:|---:|');
  for (const c of ceilings) {
    lines.push(
      `| ${c.name} | ${c.what} | ${int(c.load.perSecond)} | ${ms(c.load.latencyMs.p50)} | ${ms(c.load.latencyMs.p99)} |`,
    );
  }
  lines.push('');
  lines.push(
    '| scenario | rate | p50 ms | p95 ms | p99 ms | max ms | ratio to ceiling | server CPU / machine busy (cores) | target | met | responses |',
    '|---|---:|---:|---:|---:|---:|---|---:|---|---|---|',
  );
  const byName = new Map(ceilings.map((c) => [c.name, c]));
  for (const r of results) {
    const ceiling = r.ceiling ? byName.get(r.ceiling) : undefined;
    const ratio = ceiling
      ? `${(r.load.perSecond / ceiling.load.perSecond).toFixed(2)} × ${ceiling.name}`
      : '–';
    const target = TARGETS[r.name];
    const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.name} (${c.detail ?? ''})`);
    const verdict = !targetsApply ? (failed.length ? 'checks failed' : 'n/a') : met(r) ? 'yes' : 'NO';
    lines.push(
      `| ${r.name} | ${int(r.load.perSecond)} ${r.unit} | ${ms(r.load.latencyMs.p50)} | ${ms(r.load.latencyMs.p95)} | ` +
        `${ms(r.load.latencyMs.p99)} | ${ms(r.load.latencyMs.max)} | ${ratio} | ${r.load.serverCpuPerCore.toFixed(2)} / ${r.load.machineBusyCores?.toFixed(2) ?? '–'} | ` +
        `${target?.text ?? ''} | ${verdict} | ${countsText(r.load.counts)} |`,
    );
  }
  const failures = results.flatMap((r) =>
    r.checks.filter((c) => !c.ok).map((c) => `- ${r.name}: ${c.name} — ${c.detail ?? ''}`),
  );
  if (failures.length > 0) lines.push('', 'Failed checks:', ...failures);
  const facts = results.filter((r) => r.facts).map((r) => `- ${r.name}: ${JSON.stringify(r.facts)}`);
  if (facts.length > 0) lines.push('', ...facts);
  return lines.join('\n');
}
