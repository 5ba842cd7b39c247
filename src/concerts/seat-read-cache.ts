import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { SeatChanges, SeatVersions, Version } from './seat-changes.js';

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

/** A response body rendered from seat state, and the instant it stops being true by itself. */
export interface Rendered {
  json: string;
  /** Epoch ms: the earliest hold expiry it shows, the end of its UTC day, or its MAX_AGE_MS. */
  validUntil: number;
}

export type Encoding = 'br' | 'gzip';

/**
 * A rendered answer as the routes send it: the JSON, and its compressed forms, each made at most
 * once per rendering (so per seat version) however many readers ask for it. A 2,000-seat section
 * is ~190 KB of JSON and ~10 KB compressed: compressing it per request would cost more than
 * rendering it.
 */
export class Answer {
  constructor(
    readonly json: string,
    readonly validUntil: number,
    private readonly encoded = new Map<Encoding, Promise<Buffer>>(),
  ) {}

  /** The same bytes, valid until `validUntil`: the compressed forms already made still serve. */
  renewed(validUntil: number): Answer {
    return new Answer(this.json, validUntil, this.encoded);
  }

  compressed(encoding: Encoding): Promise<Buffer> {
    let body = this.encoded.get(encoding);
    if (!body) {
      // Off the event loop (zlib's thread pool); brotli at a middle quality: it runs once per
      // version, and a sale changes versions many times a second.
      body =
        encoding === 'br'
          ? brotli(this.json, {
              params: {
                [constants.BROTLI_PARAM_QUALITY]: 5,
                [constants.BROTLI_PARAM_SIZE_HINT]: Buffer.byteLength(this.json),
              },
            })
          : gzipped(this.json, { level: 6 });
      this.encoded.set(encoding, body);
    }
    return body;
  }
}

interface Entry {
  version: string;
  rendered: Promise<Answer>;
}

/**
 * How long an answer may be reused at most, whatever the version says. Only matters when a
 * change could not be announced (the process died between commit and announcement, or Redis
 * refused the write): then readers elsewhere are wrong for at most this long. One rendering
 * per second per show and instance costs nothing.
 */
export const MAX_AGE_MS = 1_000;
/** How long a reader waits for a re-rendering before it takes the last answer of the same version. */
const STALE_RENDER_WAIT_MS = 100;

/**
 * Answers rendered from seat state (the dates list, the seat maps), reused while their
 * concert's seat version is unchanged and they have not gone stale by time: a hold lapses, a
 * day ends. Readers that miss together share one rendering. It is also the SeatChanges the
 * writers call: the change is announced to every instance through the versions, and this
 * instance's own answers for the concert are dropped at once.
 */
export class SeatReadCache implements SeatChanges {
  /** Per concert, per answer (the dates list, one seat map per show). */
  private readonly concerts = new Map<string, Map<string, Entry>>();
  /**
   * Per concert, per answer: the last one rendered, with the version it was rendered under. When
   * a re-rendering (only because time passed: the version is the same) is slow or fails, the
   * database being frozen or away, readers get this instead of waiting: no seat can change
   * without the database meanwhile, and a hold lapsing is all it may miss.
   */
  private readonly lastGood = new Map<string, Map<string, { version: string; answer: Answer }>>();

  constructor(private readonly versions: SeatVersions) {}

  /**
   * Starts reading the concert's version, for a request that will read its seat state: the
   * route does it while the request's queue token is being checked, so both take one trip.
   */
  peek(concertId: string): Promise<Version> {
    return this.versions.peek(concertId);
  }

  /**
   * The answer for `key` (of `concertId`) at `now`: reused if rendered under the current
   * version and still valid, otherwise rendered by `render(now)`, which reads the database
   * only after the version was read. `peeked` is the version as read since the request
   * arrived (see peek); only a concert known to exist may be given a first version.
   */
  async read(
    concertId: string,
    key: string,
    now: number,
    render: (now: number) => Promise<Rendered>,
    peeked: Promise<Version> = this.peek(concertId),
  ): Promise<Answer> {
    let version = await peeked;
    if (version === undefined) version = await this.versions.start(concertId);
    if (version === null) {
      const once = await render(now);
      return new Answer(once.json, once.validUntil);
    }
    const answer = this.readVersion(concertId, key, version, now, render);
    const last = this.lastGood.get(concertId)?.get(key);
    void answer.then(
      (fresh) => {
        let answers = this.lastGood.get(concertId);
        if (!answers) {
          answers = new Map();
          this.lastGood.set(concertId, answers);
        }
        answers.set(key, { version, answer: fresh });
      },
      () => {},
    );
    if (last?.version !== version) return answer;
    let timer: NodeJS.Timeout | undefined;
    const stale = new Promise<Answer>((resolve) => {
      timer = setTimeout(() => resolve(last.answer), STALE_RENDER_WAIT_MS);
    });
    return Promise.race([answer.catch(() => last.answer), stale]).finally(() => clearTimeout(timer));
  }

  private async readVersion(
    concertId: string,
    key: string,
    version: string,
    now: number,
    render: (now: number) => Promise<Rendered>,
  ): Promise<Answer> {
    // Reuse what was rendered under this version while it holds; readers that find it out of
    // date together let the first of them render again and wait for that.
    for (;;) {
      const entry = this.concerts.get(concertId)?.get(key);
      if (entry?.version !== version) break;
      const rendered = await entry.rendered;
      if (now < rendered.validUntil) return rendered;
      if (this.concerts.get(concertId)?.get(key) === entry) break;
    }
    const previous = this.concerts.get(concertId)?.get(key);
    const rendered = render(now).then(async (r) => {
      const validUntil = Math.min(r.validUntil, now + MAX_AGE_MS);
      // Rendered again only because its time ran out (MAX_AGE_MS, a lapse): when nothing
      // changed, the compressed forms are kept rather than made again every second.
      const before =
        previous?.version === version ? await previous.rendered.catch(() => undefined) : undefined;
      return before?.json === r.json ? before.renewed(validUntil) : new Answer(r.json, validUntil);
    });
    const fresh: Entry = { version, rendered };
    let answers = this.concerts.get(concertId);
    if (!answers) {
      answers = new Map();
      this.concerts.set(concertId, answers);
    }
    answers.set(key, fresh);
    rendered.catch(() => {
      if (answers.get(key) === fresh) answers.delete(key);
    });
    return rendered;
  }

  async changed(concertId: string): Promise<void> {
    this.concerts.delete(concertId);
    this.lastGood.delete(concertId);
    await this.versions.changed(concertId);
  }
}
