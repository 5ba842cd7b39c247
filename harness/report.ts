import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { InvariantReport } from './invariants.js';
import type { SaleResult } from './sale.js';

/** The figures of one run: what the table prints and what goes to test-results/*.json. */
export interface RunFigures {
  run: string;
  instances: number;
  users: number;
  dates: number;
  seatsPerDate: number;
  seats: number;
  sold: number;
  /** Whole run: cluster start to checks done. */
  durationMs: number;
  /** The sale itself: first request of the first user to the last user done. */
  saleMs: number;
  /** From the start of the sale to the last seat paid for. */
  sellOutMs: number | null;
  outcomes: Record<string, number>;
  requests: SaleResult['requests'] & { perSecond: number };
  queue: { samples: number; sampleErrors: number; maxActiveSeen: number; maxActive: number };
  admittedTickets: number;
  seatConflicts: number;
  /** Holds whose answer was lost with a dying instance: how many, and how many had happened. */
  ambiguousHolds: { total: number; happened: number };
  /** Anything that happened to the cluster during the run (e.g. an instance killed). */
  events: string[];
  checks: InvariantReport['checks'];
  violations: InvariantReport['violations'];
}

export function figuresOf(input: {
  run: string;
  instances: number;
  sale: SaleResult;
  report: InvariantReport;
  durationMs: number;
  maxActive: number;
  events?: string[];
}): RunFigures {
  const { sale } = input;
  return {
    run: input.run,
    instances: input.instances,
    users: sale.users.length,
    dates: sale.dates.length,
    seatsPerDate: sale.seatsPerDate,
    seats: sale.dates.length * sale.seatsPerDate,
    sold: sale.sold,
    durationMs: input.durationMs,
    saleMs: sale.durationMs,
    sellOutMs: sale.soldOutAt === null ? null : sale.soldOutAt - sale.startedAt,
    outcomes: sale.outcomes,
    requests: {
      ...sale.requests,
      perSecond: Math.round(sale.requests.total / Math.max(0.001, sale.durationMs / 1000)),
    },
    queue: {
      samples: sale.samples.length,
      sampleErrors: sale.sampleErrors,
      maxActiveSeen: Math.max(0, ...sale.samples.map((s) => s.active)),
      maxActive: input.maxActive,
    },
    admittedTickets: sale.users.flatMap((u) => u.tickets).filter((t) => t.admittedAt !== null).length,
    seatConflicts: sale.users.reduce((n, u) => n + u.seatConflicts, 0),
    ambiguousHolds: {
      total: sale.users.reduce((n, u) => n + u.ambiguousHolds, 0),
      happened: sale.users.reduce((n, u) => n + u.adoptedHolds, 0),
    },
    events: input.events ?? [],
    checks: input.report.checks,
    violations: input.report.violations,
  };
}

const seconds = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);

/** A compact plain-text table of one run. */
export function formatFigures(f: RunFigures): string {
  const lines: string[] = [];
  lines.push(
    `── cluster run "${f.run}": ${f.instances} instances, ${f.users} users, ${f.dates} date(s) × ${f.seatsPerDate} seats`,
  );
  lines.push(
    `   sold ${f.sold}/${f.seats} · sell-out ${seconds(f.sellOutMs)} · sale ${seconds(f.saleMs)} · run ${seconds(f.durationMs)}`,
  );
  lines.push(
    `   outcomes ${Object.entries(f.outcomes)
      .map(([k, n]) => `${k} ${n}`)
      .join(' · ')} · admitted tickets ${f.admittedTickets} · seat conflicts ${f.seatConflicts}`,
  );
  if (f.ambiguousHolds.total > 0) {
    lines.push(
      `   holds cut off by a dying instance ${f.ambiguousHolds.total}, of which ${f.ambiguousHolds.happened} had happened (found via GET /reservations)`,
    );
  }
  lines.push(
    `   queue: max active seen ${f.queue.maxActiveSeen}/${f.queue.maxActive} in ${f.queue.samples} samples (${f.queue.sampleErrors} failed)`,
  );
  for (const e of f.events) lines.push(`   event: ${e}`);
  lines.push(`   requests ${f.requests.total} (${f.requests.perSecond}/s)`);
  const width = Math.max(...Object.keys(f.requests.byStatus).map((k) => k.length), 6);
  for (const [key, n] of Object.entries(f.requests.byStatus)) {
    lines.push(`     ${key.padEnd(width)}  ${String(n).padStart(7)}`);
  }
  const passed = f.checks.filter((c) => c.ok).length;
  lines.push(`   checks ${passed}/${f.checks.length} passed`);
  for (const c of f.checks) lines.push(`     ${c.ok ? 'ok  ' : 'FAIL'} ${c.name} — ${c.detail}`);
  for (const v of f.violations) lines.push(`     ✗ ${v.check}: ${v.detail}`);
  return lines.join('\n');
}

export function writeFigures(path: string, figures: RunFigures): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(figures, null, 2)}\n`);
}
