import { randomUUID } from 'node:crypto';
import { type RedisClient, waitForReplicas } from '../redis/connection.js';
import { DEFAULT_PREFIX, lineKeys, markerKey, registryKey } from '../redis/keys.js';
import { defineScripts, type ScriptArg, type ScriptFn, userMember } from '../redis/scripts.js';
import { LinePicture } from './line-picture.js';
import type { PrequeueLine, RedisLineAccess } from './prequeue-line.js';
import {
  ADMISSION_RATE_WINDOW_MS,
  ADMISSION_SAMPLE_WINDOW_MS,
  type AdvanceResult,
  type DataLosses,
  type JoinResult,
  type QueueCounts,
  type QueueSettings,
  type QueueStore,
  type QueueTimings,
  type RegisteredLine,
  type TicketRef,
  type TicketView,
} from './queue-store.js';
import { decodeAdvance, decodeJoined, decodeSettings, decodeView, toArray, toInt } from './redis-replies.js';
import { LINE_SCRIPTS, type ScriptName } from './redis-scripts.js';

/**
 * The waiting room in Redis, shared by any number of instances.
 *
 * Every state change is one Lua script (src/queue/lua), so it is atomic across instances: no
 * step reads in Node and writes back. Time is always the caller's `now`, never Redis TIME, so
 * one injectable clock drives this store and the in-process one alike.
 *
 * All keys of a concert share the hash tag `{concertId}` (see redis/keys.ts), so every script
 * touches a single slot and runs on Redis Cluster. The registry of lines and the loss marker
 * live in other slots and are only ever touched by single-key commands.
 *
 * What a waiter costs: one `waiting` entry (member: the user id, 16 bytes for a UUID; score:
 * the ticket), 6 bytes of `seen` and a 64th of a `seenBlocks` entry — about 135 bytes at a
 * million (bench: `line`). What grows, and how it is bounded:
 * - waiting/seen/active/users/owners hold live tickets only: every removal (leave, lapse, idle
 *   drop, admission) clears the ticket; `seen` and `seenBlocks` are reset whenever nobody
 *   waits, so they span the current line only.
 * - admitted is trimmed to ADMISSION_SAMPLE_WINDOW_MS on every advance and status read, so
 *   it holds at most admitPerSecond × 60 entries.
 * - meta and settings are a few bytes per concert, kept with no TTL.
 * - the registry holds lines joined lately; the ticker takes a line off once empty a while.
 */

export interface RedisQueueStoreOptions {
  /** Key prefix; tests isolate themselves with a random one. */
  prefix?: string;
  /**
   * Most tickets one advance touches per phase (lapsed, idle, admitted), so that a huge
   * backlog never blocks Redis for long; the rest waits for the next step.
   */
  maxBatch?: number;
  /**
   * With replicas (Redis Cluster, or a master with one): after a write a failover must not lose
   * (a join, an admission, a slot given back), `WAIT 1` up to this long before answering. 0: no wait.
   * Should the replica not confirm in time the answer is given anyway (a lost replica must not
   * stop the sale); that write is then as safe as asynchronous replication, and counted.
   */
  replicaWaitMs?: number;
}

export const DEFAULT_MAX_BATCH = 1_000;
/** After a WAIT no replica confirmed, how long a line's writes go unwaited (see replicated). */
const UNREPLICATED_PAUSE_MS = 5_000;
/**
 * A join registers its line at least this often per instance, even behind other waiters (see
 * joinMany): the bound on how long a failed registration can leave a line unstepped.
 */
export const REREGISTER_MS = 1_000;

export class RedisQueueStore implements QueueStore {
  private readonly prefix: string;
  private readonly maxBatch: number;
  private readonly replicaWaitMs: number;
  /** Writes not seen to reach a replica (WAIT unconfirmed in time, or not tried: see replicated). */
  unreplicatedWrites = 0;
  /** Lines whose master had no replica confirm lately: no WAIT for them until then (performance.now()). */
  private readonly unreplicatedUntil = new Map<string, number>();
  private readonly scripts: Record<ScriptName, ScriptFn>;
  private marker: string | undefined;
  private readonly lossLog: DataLosses = { count: 0, lastAt: null };
  /** When this instance last registered each line (performance.now()), for REREGISTER_MS. */
  private readonly registeredAt = new Map<string, number>();
  private lineAccess: RedisLineAccess | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly timings: QueueTimings,
    private readonly defaults: QueueSettings,
    options: RedisQueueStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    this.replicaWaitMs = options.replicaWaitMs ?? 0;
    this.scripts = defineScripts(redis, LINE_SCRIPTS);
  }

  /** What the pre-queue of a scheduled sale (sale/redis-prequeue.ts) uses of this line. */
  prequeueLine(): PrequeueLine {
    this.lineAccess ??= {
      redis: this.redis,
      prefix: this.prefix,
      idleTimeoutMs: this.timings.idleTimeoutMs,
      register: (concertId, now) => this.register(concertId, now),
      luaIncludes: LINE_SCRIPTS.includes,
    };
    return { kind: 'redis', line: this.lineAccess };
  }

  private defaultArgs(): ScriptArg[] {
    return [this.defaults.maxActive, this.defaults.admitPerSecond, this.defaults.paused ? 1 : 0];
  }

  private lineKeyList(concertId: string): string[] {
    return Object.values(lineKeys(this.prefix, concertId));
  }

  async join(concertId: string, userId: string, now: number): Promise<JoinResult> {
    const [joined] = await this.joinMany(concertId, [userId], now);
    return joined!;
  }

  async joinMany(concertId: string, userIds: readonly string[], now: number): Promise<JoinResult[]> {
    if (userIds.length === 0) return [];
    const reply = await this.scripts.join(
      ...this.lineKeyList(concertId),
      now,
      this.timings.idleTimeoutMs,
      ADMISSION_SAMPLE_WINDOW_MS,
      ...this.defaultArgs(),
      ...userIds.map(userMember),
    );
    const joined = decodeJoined(reply);
    // A taken ticket is a position the buyer was told: a failover must not forget it.
    await this.replicated(concertId);
    // The admission ticker skips a line it last saw with nobody in it until the line is joined
    // again, so joins that may have ended that state register the line. A waiter with someone
    // ahead need not: whoever is ahead was there at the ticker's last step (so it steps the
    // line anyway) or joined since with nobody ahead and registered it. That spares the
    // hottest path a Redis call per join in a rush. After the tickets are taken, never before:
    // a registered line without counters reads as lost. Outside the script because the
    // registry is in another slot; should that call fail after the tickets were taken (the
    // registry's shard down), the joins fail, and the next join through this instance at
    // least REREGISTER_MS later registers the line whoever it finds ahead, so a line with
    // people in it is never left unstepped for long.
    const firstInLine = joined.some(({ view }) => !(view.state === 'WAITING' && view.position > 1));
    const last = this.registeredAt.get(concertId);
    if (firstInLine || last === undefined || performance.now() - last >= REREGISTER_MS) {
      await this.register(concertId, now);
    }
    return joined;
  }

  /** Marks the line joined on the registry of live lines (lua/register-1.lua). */
  private async register(concertId: string, now: number): Promise<void> {
    await this.scripts.register(registryKey(this.prefix), concertId, now);
    // Lines this instance registered lately; the older ones are forgotten (a join then simply
    // registers again), so the map stays as small as the set of lines being joined.
    if (this.registeredAt.size >= 1_000) this.registeredAt.clear();
    this.registeredAt.set(concertId, performance.now());
  }

  async view(
    concertId: string,
    ticket: number,
    now: number,
    touch: boolean,
    owner?: string,
  ): Promise<TicketView> {
    const reply = await this.scripts.view(
      ...this.lineKeyList(concertId),
      ticket,
      now,
      touch ? 1 : 0,
      this.timings.idleTimeoutMs,
      ADMISSION_SAMPLE_WINDOW_MS,
      ...this.defaultArgs(),
      owner === undefined ? '' : userMember(owner),
    );
    return decodeView(toArray(reply, 'view'), 0);
  }

  async viewMany(
    concertId: string,
    tickets: readonly TicketRef[],
    now: number,
    touch: boolean,
  ): Promise<TicketView[]> {
    if (tickets.length === 0) return [];
    const reply = await this.scripts['view-many'](
      ...this.lineKeyList(concertId),
      now,
      touch ? 1 : 0,
      this.timings.idleTimeoutMs,
      ADMISSION_SAMPLE_WINDOW_MS,
      ...this.defaultArgs(),
      ...tickets.flatMap(({ ticket, owner }) => [ticket, owner === undefined ? '' : userMember(owner)]),
    );
    return toArray(reply, 'viewMany').map((view) => decodeView(toArray(view, 'viewMany item'), 0));
  }

  async picture(concertId: string, now: number, known?: LinePicture): Promise<LinePicture | undefined> {
    // The Buffer form of the command (ioredis defines one beside each script): `bits` is binary.
    const pictureBuffer = (this.redis as unknown as Record<string, ScriptFn>).boQueuePictureBuffer!;
    const raw = toArray(
      await pictureBuffer.call(
        this.redis,
        ...this.lineKeyList(concertId),
        now,
        ADMISSION_SAMPLE_WINDOW_MS,
        ...this.defaultArgs(),
        known ? known.data.firstTicket : '',
        known ? known.data.cut : 0,
        known ? known.data.seq : 0,
      ),
      'picture',
    );
    if (raw.length === 0) return undefined;
    const bits = raw[6] as Buffer;
    const reply = raw.map((value) => (Buffer.isBuffer(value) ? value.toString('latin1') : value));
    const seq = toInt(reply[0], 'seq');
    const firstTicket = toInt(reply[2], 'seenBase');
    const fromByte = toInt(reply[5], 'fromByte');
    // `bits` may end before the byte of seq (tickets reserved but never placed): read as zeros.
    const lastByte = Math.floor((seq - firstTicket) / 8);
    const bytes = new Uint8Array(Math.max(0, lastByte - fromByte + 1, bits.length));
    bytes.set(bits, 0);
    const data = {
      seq,
      base: toInt(reply[1], 'base'),
      firstTicket,
      cut: toInt(reply[3], 'cut'),
      head: toInt(reply[4], 'head'),
      fromByte,
      bytes,
      admissionsCount: toInt(reply[7], 'admissions count'),
      oldestAdmission: reply[8] === '' || reply[8] == null ? null : toInt(String(reply[8]), 'oldest'),
      settings: decodeSettings(reply, 9),
    };
    return known ? known.merge(data, now) : new LinePicture(data, now);
  }

  async leave(concertId: string, ticket: number, _now: number, owner?: string): Promise<void> {
    await this.scripts.leave(
      ...this.lineKeyList(concertId),
      ticket,
      owner === undefined ? '' : userMember(owner),
    );
    await this.replicated(concertId);
  }

  async advance(concertId: string, now: number): Promise<AdvanceResult> {
    const reply = await this.scripts.advance(
      ...this.lineKeyList(concertId),
      now,
      this.timings.activeTtlMs,
      this.timings.idleTimeoutMs,
      ADMISSION_RATE_WINDOW_MS,
      ADMISSION_SAMPLE_WINDOW_MS,
      this.maxBatch,
    );
    const result = decodeAdvance(reply);
    // Admitted buyers stay admitted through a failover (the next poll answers ACTIVE).
    if (result.admitted > 0) await this.replicated(concertId);
    return result;
  }

  /**
   * WAIT 1 on the master of the concert's slot (replicaWaitMs > 0): every write this instance
   * made there so far is on a replica, which is the one promoted should that master die.
   *
   * A master with no replica in reach (the one just promoted, whose old master is dead; a
   * replica restarting) would make every WAIT last the whole replicaWaitMs: after one goes
   * unconfirmed, that line's writes are answered without waiting for UNREPLICATED_PAUSE_MS, then
   * WAIT is tried again. Those writes are counted, and are as safe as asynchronous replication.
   */
  private async replicated(concertId: string): Promise<void> {
    if (this.replicaWaitMs <= 0) return;
    const pausedUntil = this.unreplicatedUntil.get(concertId);
    if (pausedUntil !== undefined && performance.now() < pausedUntil) {
      this.unreplicatedWrites++;
      return;
    }
    const acked = await waitForReplicas(
      this.redis,
      lineKeys(this.prefix, concertId).meta,
      1,
      this.replicaWaitMs,
    );
    if (acked >= 1) {
      this.unreplicatedUntil.delete(concertId);
      return;
    }
    this.unreplicatedWrites++;
    if (this.unreplicatedUntil.size >= 1_000) this.unreplicatedUntil.clear();
    this.unreplicatedUntil.set(concertId, performance.now() + UNREPLICATED_PAUSE_MS);
  }

  async counts(concertId: string, now: number): Promise<QueueCounts> {
    const k = lineKeys(this.prefix, concertId);
    const reply = toArray(await this.scripts.counts(k.waiting, k.active, now), 'counts');
    return { waiting: toInt(reply[0], 'waiting'), active: toInt(reply[1], 'active') };
  }

  async getSettings(concertId: string): Promise<QueueSettings> {
    const [maxActive, admitPerSecond, paused] = await this.redis.hmget(
      lineKeys(this.prefix, concertId).settings,
      'maxActive',
      'admitPerSecond',
      'paused',
    );
    return {
      maxActive: maxActive == null ? this.defaults.maxActive : toInt(maxActive, 'maxActive'),
      admitPerSecond:
        admitPerSecond == null ? this.defaults.admitPerSecond : toInt(admitPerSecond, 'admitPerSecond'),
      paused: paused == null ? this.defaults.paused : paused === '1',
    };
  }

  /** Only the fields named in the patch are stored. */
  async updateSettings(concertId: string, patch: Partial<QueueSettings>): Promise<QueueSettings> {
    return this.writeSettings(concertId, 'patch', patch);
  }

  async restoreSettings(concertId: string, settings: QueueSettings): Promise<void> {
    await this.writeSettings(concertId, 'restore', settings);
  }

  private async writeSettings(
    concertId: string,
    mode: 'patch' | 'restore',
    patch: Partial<QueueSettings>,
  ): Promise<QueueSettings> {
    const fields: ScriptArg[] = [];
    if (patch.maxActive !== undefined) fields.push('maxActive', patch.maxActive);
    if (patch.admitPerSecond !== undefined) fields.push('admitPerSecond', patch.admitPerSecond);
    if (patch.paused !== undefined) fields.push('paused', patch.paused ? 1 : 0);
    const reply = await this.scripts['update-settings'](
      lineKeys(this.prefix, concertId).settings,
      ...this.defaultArgs(),
      mode,
      ...fields,
    );
    return decodeSettings(toArray(reply, 'updateSettings'), 0);
  }

  async registeredLines(): Promise<RegisteredLine[]> {
    const flat = await this.redis.zrange(registryKey(this.prefix), '0', '-1', 'WITHSCORES');
    const lines: RegisteredLine[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      lines.push({ concertId: flat[i]!, lastJoin: toInt(flat[i + 1], 'lastJoin') });
    }
    return lines;
  }

  async unregister(concertId: string, lastJoin: number): Promise<void> {
    await this.scripts.unregister(registryKey(this.prefix), concertId, lastJoin);
  }

  async concertIds(): Promise<string[]> {
    return (await this.registeredLines()).map((line) => line.concertId);
  }

  async checkForLoss(now: number): Promise<boolean> {
    // SET NX GET: the marker as it was (null: missing, and now set to ours) in one step.
    const candidate = randomUUID();
    const previous = (await this.redis.call('SET', markerKey(this.prefix), candidate, 'NX', 'GET')) as
      | string
      | null;
    const current = previous ?? candidate;
    const lost = this.marker !== undefined && current !== this.marker;
    this.marker = current;
    if (lost) this.recordLoss(now);
    return lost;
  }

  recordLoss(now: number): void {
    this.lossLog.count++;
    this.lossLog.lastAt = now;
  }

  losses(): DataLosses {
    return { ...this.lossLog };
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  /** The connection belongs to the caller, who may share it; closing it is theirs to do. */
  async close(): Promise<void> {}
}
