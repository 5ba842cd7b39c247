import type { Ceiling } from '../ceilings/ceilings.js';
import type { CeilingName, ScenarioResult } from '../scenarios/scenario.js';
import type { MachineFacts } from './machine.js';

/** A target of one scenario, for runs with that many instances (cluster mode, not smoke). */
export interface Target {
  instances: number;
  text: string;
  perSecond?: number;
  p99Ms?: number;
  /** At least this share of a ceiling measured in the same run. */
  ratio?: { ceiling: CeilingName; atLeast: number };
  /**
   * Against another scenario of the same run (issue 17): a rate of at least `rateAtLeast` × its
   * rate, or a p99 of at most `p99AtMost` × its p99. Applies only when that scenario ran too.
   */
  vs?: { scenario: string; rateAtLeast?: number; p99AtMost?: number };
}

/** Issue 17's targets are same-run ratios, so they hold on one instance and on two alike. */
const bothCounts = (t: Omit<Target, 'instances'>): Target[] =>
  [1, 2].map((instances) => ({ ...t, instances }));

/**
 * The targets on this 2-core machine (see bench/README.md). Issue 12's are on one instance:
 * reads against the bare HTTP ceiling, writes against pgbench running their own SQL.
 */
export const TARGETS: Record<string, Target[]> = {
  join: [{ instances: 2, perSecond: 15_000, text: '≥ 15,000 req/s' }],
  poll: [{ instances: 2, perSecond: 20_000, text: '≥ 20,000 req/s' }],
  dates: [{ instances: 1, ratio: { ceiling: 'http', atLeast: 0.25 }, text: '≥ 0.25 × http' }],
  seatmap: [
    { instances: 1, ratio: { ceiling: 'http', atLeast: 0.15 }, text: '≥ 0.15 × http' },
    { instances: 2, perSecond: 10_000, text: '≥ 10,000 req/s' },
  ],
  'hold-spread': [
    { instances: 1, ratio: { ceiling: 'holdSql', atLeast: 0.8 }, text: '≥ 0.8 × holdSql' },
    { instances: 2, perSecond: 3_000, text: '≥ 3,000 holds/s' },
  ],
  charge: [{ instances: 1, ratio: { ceiling: 'chargeSql', atLeast: 0.8 }, text: '≥ 0.8 × chargeSql' }],
  pay: [
    { instances: 1, ratio: { ceiling: 'paySql', atLeast: 0.8 }, text: '≥ 0.8 × paySql' },
    { instances: 2, perSecond: 1_500, text: '≥ 1,500 payments/s' },
  ],
  'hold-contended': [
    { instances: 1, p99Ms: 60, text: 'p99 ≤ 60 ms, one winner' },
    { instances: 2, p99Ms: 50, text: 'p99 ≤ 50 ms, one winner' },
  ],
  rush: [{ instances: 2, text: 'sold out, 0 violations, no 5xx' }],
  sections: bothCounts({ vs: { scenario: 'seatmap', rateAtLeast: 0.5 }, text: '≥ 0.5 × seatmap' }),
  'seatmap-section': bothCounts({ vs: { scenario: 'seatmap', rateAtLeast: 0.5 }, text: '≥ 0.5 × seatmap' }),
  'seatmap-sections': bothCounts({ vs: { scenario: 'seatmap', rateAtLeast: 0.5 }, text: '≥ 0.5 × seatmap' }),
  'hold-best': bothCounts({ vs: { scenario: 'hold-spread', rateAtLeast: 0.8 }, text: '≥ 0.8 × hold-spread' }),
  'best-contended': bothCounts({
    vs: { scenario: 'hold-contended', p99AtMost: 3 },
    text: 'p99 ≤ 3 × hold-contended p99; 0 refused while a run was free; no seat twice',
  }),
  stadium: bothCounts({ text: 'sold out, every invariant, ≤ 0.2 refused holds per seat (best available)' }),
};

/** One load of every chosen scenario on a number of instances, beside its own ceilings. */
export interface Run {
  instances: number;
  ceilings: Ceiling[];
  results: ScenarioResult[];
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '–');

function countsText(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}: ${int(v)}`)
    .join(', ');
}

function ratioTo(result: ScenarioResult, ceilings: Ceiling[], name: CeilingName | null): number {
  const ceiling = ceilings.find((c) => c.name === name);
  return ceiling ? result.load.perSecond / ceiling.load.perSecond : Number.NaN;
}

function ratioText(result: ScenarioResult, ceilings: Ceiling[], run?: Run): string {
  const r = ratioTo(result, ceilings, result.ceiling);
  const parts = Number.isFinite(r) ? [`${r.toFixed(2)} × ${result.ceiling}`] : [];
  // Issue 17's same-run comparisons with another scenario, whether or not targets apply.
  for (const t of TARGETS[result.name] ?? []) {
    if (!t.vs || !run || t.instances !== run.instances) continue;
    const v = versus(result, run, t.vs.scenario);
    if (t.vs.rateAtLeast !== undefined && Number.isFinite(v.rate))
      parts.push(`rate ${v.rate.toFixed(2)} × ${t.vs.scenario}`);
    if (t.vs.p99AtMost !== undefined && Number.isFinite(v.p99))
      parts.push(`p99 ${v.p99.toFixed(2)} × ${t.vs.scenario}`);
  }
  return parts.length > 0 ? parts.join('; ') : '–';
}

/**
 * Server CPU per answered request, in µs: what a path costs, whatever else the machine ran
 * (throughput moves with the neighbours; this moves much less).
 */
export function cpuPerRequestUs(r: ScenarioResult): number {
  return ((r.load.serverCpuPerCore * r.load.seconds) / r.load.requests) * 1e6;
}

/** The targets that apply to a result of a run (those against another scenario only when it ran). */
export function targetsOf(result: ScenarioResult, instances: number, run?: Run): Target[] {
  return (TARGETS[result.name] ?? []).filter(
    (t) => t.instances === instances && (!t.vs || !run || run.results.some((r) => r.name === t.vs!.scenario)),
  );
}

/** This result's rate and p99 over those of the scenario a target compares it with. */
export function versus(result: ScenarioResult, run: Run, scenario: string) {
  const other = run.results.find((r) => r.name === scenario);
  if (!other) return { rate: Number.NaN, p99: Number.NaN };
  return {
    rate: result.load.perSecond / other.load.perSecond,
    p99: result.load.latencyMs.p99 / other.load.latencyMs.p99,
  };
}

/** Whether the checks passed and every applicable target was met. */
export function met(result: ScenarioResult, run: Run): boolean {
  if (!result.checks.every((c) => c.ok)) return false;
  return targetsOf(result, run.instances, run).every((t) => {
    if (t.perSecond !== undefined && !(result.load.perSecond >= t.perSecond)) return false;
    if (t.vs) {
      const v = versus(result, run, t.vs.scenario);
      if (t.vs.rateAtLeast !== undefined && !(v.rate >= t.vs.rateAtLeast)) return false;
      if (t.vs.p99AtMost !== undefined && !(v.p99 <= t.vs.p99AtMost)) return false;
    }
    if (t.p99Ms !== undefined && !(result.load.latencyMs.p99 <= t.p99Ms)) return false;
    if (t.ratio && !(ratioTo(result, run.ceilings, t.ratio.ceiling) >= t.ratio.atLeast)) return false;
    return true;
  });
}

function verdict(result: ScenarioResult, run: Run, targetsApply: boolean): string {
  const failed = result.checks.some((c) => !c.ok);
  if (!targetsApply || targetsOf(result, run.instances, run).length === 0)
    return failed ? 'checks failed' : 'n/a';
  return met(result, run) ? 'yes' : 'NO';
}

/** A run's full tables: its ceilings, then every scenario with its latencies and answers. */
export function runMarkdown(run: Run, targetsApply: boolean): string {
  const lines: string[] = [`#### ${run.instances} instance(s)`, ''];
  lines.push('| ceiling | what | rate/s | p50 ms | p99 ms |', '|---|---|---:|---:|---:|');
  for (const c of run.ceilings) {
    lines.push(
      `| ${c.name} | ${c.what} | ${int(c.load.perSecond)} | ${ms(c.load.latencyMs.p50)} | ${ms(c.load.latencyMs.p99)} |`,
    );
  }
  lines.push('');
  lines.push(
    '| scenario | rate | p50 ms | p95 ms | p99 ms | max ms | ratio to ceiling | server CPU / machine busy (cores) | server CPU µs/req | target | met | responses |',
    '|---|---:|---:|---:|---:|---:|---|---:|---:|---|---|---|',
  );
  for (const r of run.results) {
    const target = targetsOf(r, run.instances, run)
      .map((t) => t.text)
      .join('; ');
    lines.push(
      `| ${r.name} | ${int(r.load.perSecond)} ${r.unit} | ${ms(r.load.latencyMs.p50)} | ${ms(r.load.latencyMs.p95)} | ` +
        `${ms(r.load.latencyMs.p99)} | ${ms(r.load.latencyMs.max)} | ${ratioText(r, run.ceilings, run)} | ` +
        `${r.load.serverCpuPerCore.toFixed(2)} / ${r.load.machineBusyCores?.toFixed(2) ?? '–'} | ${int(cpuPerRequestUs(r))} | ` +
        `${target} | ${verdict(r, run, targetsApply)} | ${countsText(r.load.counts)} |`,
    );
  }
  const failures = run.results.flatMap((r) =>
    r.checks.filter((c) => !c.ok).map((c) => `- ${r.name}: ${c.name} — ${c.detail ?? ''}`),
  );
  if (failures.length > 0) lines.push('', 'Failed checks:', ...failures);
  const facts = run.results.filter((r) => r.facts).map((r) => `- ${r.name}: ${JSON.stringify(r.facts)}`);
  if (facts.length > 0) lines.push('', ...facts);
  return lines.join('\n');
}

/**
 * Every path on one line: rate, p99 and the same-run ratio to the ceiling that bounds it, for
 * each instance count, then whether its targets were met.
 */
export function summaryMarkdown(runs: Run[], targetsApply: boolean): string {
  const names = [...new Set(runs.flatMap((run) => run.results.map((r) => r.name)))];
  const head = [
    'path',
    ...runs.flatMap((run) => [`${run.instances} inst. rate`, 'p99 ms', 'ratio']),
    'targets met',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|---|${runs.map(() => '---:|---:|---|').join('')}---|`];
  for (const name of names) {
    const cells: string[] = [name];
    const verdicts: string[] = [];
    for (const run of runs) {
      const r = run.results.find((x) => x.name === name);
      if (!r) {
        cells.push('–', '–', '–');
        continue;
      }
      cells.push(
        `${int(r.load.perSecond)} ${r.unit}`,
        ms(r.load.latencyMs.p99),
        ratioText(r, run.ceilings, run),
      );
      const v = verdict(r, run, targetsApply);
      if (v !== 'n/a') verdicts.push(`${run.instances}: ${v}`);
    }
    cells.push(verdicts.join(', ') || '–');
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The whole report: the machine, the summary, then each run's tables. */
export function markdown(
  title: string,
  machine: MachineFacts,
  database: string,
  runs: Run[],
  targetsApply: boolean,
) {
  return [
    `### ${title}`,
    '',
    `Machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGb} GB, Node ${machine.node}, ` +
      `PostgreSQL ${machine.postgres ?? 'n/a'}, Redis ${machine.redis ?? 'n/a'}, ${machine.wrk ?? 'wrk ?'}, commit ${machine.commit ?? '?'}`,
    '',
    `Database: ${database}`,
    '',
    summaryMarkdown(runs, targetsApply),
    '',
    runs.map((run) => runMarkdown(run, targetsApply)).join('\n\n'),
  ].join('\n');
}
