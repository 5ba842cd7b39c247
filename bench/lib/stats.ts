/** What one load run measured. */
export interface LoadResult {
  /** Responses counted. */
  requests: number;
  seconds: number;
  perSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Responses by status, and by status and problem `code` for errors: "409 SEAT_UNAVAILABLE". */
  counts: Record<string, number>;
  /** Connection-level failures (connect, read, write, timeout). */
  socketErrors: Record<string, number>;
  /** Server CPU seconds per wall second over the run (2.0 = both cores busy). */
  serverCpuPerCore: number;
  /**
   * CPU busy on the whole machine, in cores (servers, generator, PostgreSQL, Redis and anything
   * else): with 2 cores, a value near 2 while the servers use little says something else ran.
   */
  machineBusyCores?: number;
  fillers?: number;
  /** Bytes read per response, status line and headers included (wrk's count over its requests). */
  wireBytesPerResponse?: number;
}

/**
 * Merges latency distributions given as 1000 quantiles (0.1 % steps) with request counts as
 * weights: each quantile stands for 1/1000 of its run. Returns a quantile function in ms.
 */
export function mergeQuantiles(runs: { weight: number; quantilesUs: number[] }[]): (p: number) => number {
  const points: { us: number; w: number }[] = [];
  for (const run of runs) {
    for (const us of run.quantilesUs) points.push({ us, w: run.weight / run.quantilesUs.length });
  }
  points.sort((a, b) => a.us - b.us);
  const total = points.reduce((a, b) => a + b.w, 0);
  return (p: number) => {
    if (total === 0) return 0;
    let seen = 0;
    for (const point of points) {
      seen += point.w;
      if (seen >= p * total - 1e-9) return point.us / 1000;
    }
    return points[points.length - 1]!.us / 1000;
  };
}

/** Latency summary of individually timed requests (ms). */
export function summarize(latenciesMs: number[]) {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
}
