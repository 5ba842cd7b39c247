import { getHeapStatistics } from 'node:v8';
import type { FastifyInstance } from 'fastify';
import { problem } from '../shared/errors.js';
import { sendProblem } from './error-handler.js';

/**
 * Overload is shed, not suffered (issue 19 item 2): an instance whose event loop lags or whose
 * heap nears its limit answers new requests `503 UNAVAILABLE` with `Retry-After` at once,
 * before any store is asked anything, so the requests it has already accepted finish in time
 * and the process stays up. `/health/*` and `/metrics` always pass: a load balancer must still
 * see the instance live, and an operator must still see why it sheds.
 *
 * What @fastify/under-pressure does, measured differently: it averages the event-loop delay
 * histogram over each sample interval, so one stall shorter than the interval is diluted by the
 * ticks around it and whether the next request is shed depends on where in the interval the
 * stall fell. Here a timer measures its own lateness every `sampleIntervalMs`: a stall longer
 * than that interval makes the timer overdue, it runs in the timers phase right after the stall
 * (before the poll phase reads the next request), and the next request is shed for certain.
 * Shedding stops at the first tick that comes on time again.
 */
interface LoadSheddingOptions {
  /** Lateness of the sampling timer beyond which requests are shed; 0: not checked. */
  maxEventLoopDelayMs: number;
  /** Heap used, in percent of V8's heap limit, beyond which requests are shed; 0: not checked. */
  maxHeapPercent: number;
  retryAfterSeconds: number;
  /** How often lag and heap are measured (default 100 ms). */
  sampleIntervalMs?: number;
}

export type Pressure = 'event-loop-delay' | 'heap';

export class LoadMonitor {
  /** The last measured lateness of the sampling timer, in ms. */
  eventLoopDelayMs = 0;
  /** The last measured heap use, as a fraction of the heap limit. */
  heapFraction = 0;
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  private readonly interval: number;

  constructor(private readonly options: LoadSheddingOptions) {
    this.interval = options.sampleIntervalMs ?? 100;
  }

  start(): void {
    if (this.timer || (!this.options.maxEventLoopDelayMs && !this.options.maxHeapPercent)) return;
    this.last = performance.now();
    this.timer = setInterval(() => this.sample(), this.interval);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sample(): void {
    const now = performance.now();
    this.eventLoopDelayMs = Math.max(0, now - this.last - this.interval);
    this.last = now;
    if (this.options.maxHeapPercent) {
      const heap = getHeapStatistics();
      this.heapFraction = heap.used_heap_size / heap.heap_size_limit;
    }
  }

  /** Why new requests are shed right now, or null. */
  pressure(): Pressure | null {
    const { maxEventLoopDelayMs, maxHeapPercent } = this.options;
    if (maxEventLoopDelayMs && this.eventLoopDelayMs > maxEventLoopDelayMs) return 'event-loop-delay';
    if (maxHeapPercent && this.heapFraction * 100 > maxHeapPercent) return 'heap';
    return null;
  }
}

/** Paths never shed: liveness, readiness and the metrics that explain the shedding. */
function exempt(url: string): boolean {
  return url.startsWith('/health/') || url === '/metrics' || url.startsWith('/metrics?');
}

/**
 * Sheds requests while `monitor` reports pressure. Register it before every other onRequest hook
 * (rate limits, authentication) so a shed request costs no store round trip. Every answer also
 * carries `Server-Timing: app;dur=<ms>`. Returns the monitor, started when the app is ready and
 * stopped when it closes.
 */
export function registerLoadShedding(
  app: FastifyInstance,
  options: LoadSheddingOptions,
  monitor = new LoadMonitor(options),
): LoadMonitor {
  const retryAfter = String(options.retryAfterSeconds);
  app.addHook('onRequest', (request, reply, done) => {
    const pressure = monitor.pressure();
    if (pressure === null || exempt(request.url)) {
      done();
      return;
    }
    reply.header('retry-after', retryAfter);
    sendProblem(
      reply,
      problem('UNAVAILABLE', 'This instance is overloaded; try again shortly', { pressure }),
    );
  });
  // How long the instance itself spent on each request, apart from any wait before it read it
  // (the kernel's queue, a busy machine): what a client or a test compares its own timing with.
  app.addHook('onSend', (_request, reply, _payload, done) => {
    reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(1)}`);
    done();
  });
  app.addHook('onReady', async () => monitor.start());
  app.addHook('onClose', async () => monitor.stop());
  return monitor;
}
