import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import type { QueueStatus } from './queue.service.js';
import type { QueueStore, TicketView } from './queue-store.js';
import type { QueueTokenClaims } from './queue-token.js';

/** API.md: at most this many event streams per queue token are open at once. */
export const STREAMS_PER_TOKEN = 3;
/** How often the hub reads its streams' tickets, and the longest silence a stream allows. */
export const EVENTS_POLL_MS = 1000;
export const EVENTS_HEARTBEAT_MS = 15_000;
/**
 * A stream silent this long gets its status again: read once a period, with some jitter, it
 * is never silent for more than EVENTS_HEARTBEAT_MS.
 */
const HEARTBEAT_DUE_MS = EVENTS_HEARTBEAT_MS - 2 * EVENTS_POLL_MS;
/** Most tickets read in one store call, so that no single call holds Redis for long. */
export const VIEW_BATCH = 500;
/** Seconds a client refused for capacity is told to wait (it polls meanwhile). */
export const STREAMS_FULL_RETRY_AFTER_S = 5;
/** A line whose reads keep failing this many periods in a row ends its streams (clients poll). */
const FAILED_PERIODS_BEFORE_GIVING_UP = 5;

/** Where a stream's events go; the route writes them to its response. */
export interface StreamSink {
  /** Writes one event: a queue status as JSON. */
  write(json: string): void;
  end(): void;
}

/**
 * One open event stream. It holds its slot from `reserve` on, and lets it go exactly once,
 * by `close` (its client left, the hub ended it, or the route gave up).
 */
export class EventStream {
  closed = false;
  private sink: StreamSink | undefined;
  private lastJson = '';
  private lastSentAt = 0;

  constructor(
    readonly token: string,
    readonly claims: QueueTokenClaims,
    private readonly hub: StreamHub,
  ) {}

  /** Starts delivering: sends `first` and, while WAITING, joins the hub's reads. */
  start(sink: StreamSink, first: QueueStatus): void {
    if (this.closed) {
      sink.end();
      return;
    }
    this.sink = sink;
    this.deliver(first, this.hub.now());
    if (!this.closed) this.hub.subscribe(this);
  }

  /** Sends the status when it changed or a heartbeat is due; a final status ends the stream. */
  deliver(status: QueueStatus, now: number): void {
    if (this.closed || !this.sink) return;
    const json = JSON.stringify(status);
    if (json !== this.lastJson || now - this.lastSentAt >= HEARTBEAT_DUE_MS) {
      this.lastJson = json;
      this.lastSentAt = now;
      this.sink.write(json);
    }
    if (status.status !== 'WAITING') this.close();
  }

  /** Sends the last status again when a heartbeat is due, however slow the store is. */
  heartbeat(now: number): void {
    if (this.closed || !this.sink || now - this.lastSentAt < HEARTBEAT_DUE_MS) return;
    this.lastSentAt = now;
    this.sink.write(this.lastJson);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.release(this);
    this.sink?.end();
  }
}

/**
 * The event streams of one instance. Instead of one store read per stream per second, the
 * hub reads, once per period, the tickets of all its streams of a line in one store call
 * (`viewMany`, chunked by VIEW_BATCH) and hands each stream its status. 10,000 streams on
 * a line cost 20 calls a second instead of 10,000.
 *
 * Limits: STREAMS_PER_TOKEN per queue token on this instance (429), and `maxStreams` in all
 * (503 with Retry-After: the client polls instead). A stream counts from `reserve`, before
 * the route awaits anything, and stops counting — and stops being read, so its ticket is no
 * longer kept alive — the moment it closes.
 */
export class StreamHub {
  /** concertId → queue token → its open streams (a token names one ticket of one user). */
  private readonly lines = new Map<string, Map<string, Set<EventStream>>>();
  private readonly perToken = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  /** Every stream holding a slot, read by the hub or not yet (its first read in flight). */
  private readonly reserved = new Set<EventStream>();
  private closing = false;
  private timer: NodeJS.Timeout | undefined;
  private reading = false;

  constructor(
    private readonly store: QueueStore,
    private readonly present: (token: string, concertId: string, view: TicketView) => QueueStatus,
    private readonly clock: Clock,
    private readonly log: FastifyBaseLogger,
    private readonly maxStreams: number,
  ) {}

  now(): number {
    return this.clock.now();
  }

  /** Streams open on this instance. */
  get size(): number {
    return this.reserved.size;
  }

  /** Takes a slot for a stream of this (verified) token, or refuses it. Synchronous on purpose. */
  reserve(token: string, claims: QueueTokenClaims): EventStream {
    const ofToken = this.perToken.get(token) ?? 0;
    if (ofToken >= STREAMS_PER_TOKEN) {
      throw new AppError(
        'RATE_LIMITED',
        `At most ${STREAMS_PER_TOKEN} event streams per queue token; close one or poll /api/v1/queue/status`,
      );
    }
    if (this.closing || this.reserved.size >= this.maxStreams) {
      throw new AppError(
        'UNAVAILABLE',
        'This instance serves no more event streams; poll /api/v1/queue/status',
        {
          retryAfterSeconds: STREAMS_FULL_RETRY_AFTER_S,
        },
      );
    }
    this.perToken.set(token, ofToken + 1);
    const stream = new EventStream(token, claims, this);
    this.reserved.add(stream);
    return stream;
  }

  subscribe(stream: EventStream): void {
    if (stream.closed) return;
    const { concertId } = stream.claims;
    let line = this.lines.get(concertId);
    if (!line) {
      line = new Map();
      this.lines.set(concertId, line);
    }
    let streams = line.get(stream.token);
    if (!streams) {
      streams = new Set();
      line.set(stream.token, streams);
    }
    streams.add(stream);
    this.timer ??= setInterval(() => this.tick(), EVENTS_POLL_MS).unref();
  }

  /** Called once per stream by `EventStream.close`. */
  release(stream: EventStream): void {
    const left = (this.perToken.get(stream.token) ?? 1) - 1;
    if (left > 0) this.perToken.set(stream.token, left);
    else this.perToken.delete(stream.token);
    this.reserved.delete(stream);
    const line = this.lines.get(stream.claims.concertId);
    const streams = line?.get(stream.token);
    if (!line || !streams) return;
    streams.delete(stream);
    if (streams.size === 0) line.delete(stream.token);
    const concertId = stream.claims.concertId;
    if (line.size === 0) {
      this.lines.delete(concertId);
      this.failures.delete(concertId);
    }
    if (this.lines.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Ends every stream and refuses new ones (shutdown): clients reconnect to another instance. */
  closeAll(): void {
    this.closing = true;
    for (const stream of [...this.reserved]) stream.close();
  }

  /**
   * One period. Heartbeats do not wait on the store: a read slowed by a busy Redis delays
   * changes, never the proof of life a client (or a proxy) waits for.
   */
  private tick(): void {
    const now = this.clock.now();
    for (const stream of this.reserved) stream.heartbeat(now);
    void this.readAll();
  }

  /** Every line read in batches, all lines at once. A read still running skips the next. */
  private async readAll(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      await Promise.all([...this.lines.keys()].map((concertId) => this.readLine(concertId)));
    } finally {
      this.reading = false;
    }
  }

  private ticketOf(line: Map<string, Set<EventStream>>, token: string) {
    const claims = line.get(token)?.values().next().value?.claims;
    return { ticket: claims?.ticket ?? 0, owner: claims?.userId ?? '' };
  }

  private async readLine(concertId: string): Promise<void> {
    const line = this.lines.get(concertId);
    if (!line) return;
    const tokens = [...line.keys()];
    const batches: string[][] = [];
    for (let i = 0; i < tokens.length; i += VIEW_BATCH) batches.push(tokens.slice(i, i + VIEW_BATCH));
    const now = this.clock.now();
    try {
      const views = await Promise.all(
        batches.map((batch) =>
          this.store.viewMany(
            concertId,
            batch.map((token) => this.ticketOf(line, token)),
            now,
            true,
          ),
        ),
      );
      this.failures.delete(concertId);
      batches.forEach((batch, b) => {
        batch.forEach((token, i) => {
          const view = views[b]?.[i];
          const streams = line.get(token);
          if (!view || !streams) return; // closed while the read was in flight
          const status = this.present(token, concertId, view);
          for (const stream of [...streams]) stream.deliver(status, now);
        });
      });
    } catch (error) {
      const failed = (this.failures.get(concertId) ?? 0) + 1;
      this.failures.set(concertId, failed);
      this.log.warn({ err: error, concertId, failed }, 'event streams: reading the line failed');
      if (failed >= FAILED_PERIODS_BEFORE_GIVING_UP) {
        for (const streams of [...line.values()]) for (const stream of [...streams]) stream.close();
      }
    }
  }
}
