import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import {
  ADMISSION_RATE_WINDOW_MS,
  ADMISSION_SAMPLE_WINDOW_MS,
  type JoinResult,
  type QueueCounts,
  type QueueSettings,
  type QueueStore,
  type QueueTimings,
  type TicketRef,
  type TicketView,
} from './queue-store.js';
import { RedisPrequeue } from './redis-prequeue.js';

/**
 * The waiting room in Redis, shared by any number of instances.
 *
 * Every state change is one Lua script (src/queue/lua), so it is atomic across instances: no
 * step reads in Node and writes back. Time is always the caller's `now`, never Redis TIME, so
 * one injectable clock drives this store and the in-process one alike.
 *
 * All keys of a concert share the hash tag `{concertId}` (see `lineKeys`), so every script
 * touches a single slot and stays legal on Redis Cluster. The registry of concert ids lives in
 * another slot and is written outside the scripts.
 *
 * What grows, and how it is bounded:
 * - waiting/seen/active/users/owners hold live tickets only: every removal (leave, lapse, idle
 *   drop, admission) clears the ticket from all of them, so a line shrinks back to nothing
 *   once people stop joining (the admission ticker drops idle waiters and lapsed actives).
 * - admitted is trimmed to ADMISSION_SAMPLE_WINDOW_MS on every advance and status read, so
 *   it holds at most admitPerSecond × 60 entries.
 * - seq, settings and the concert registry are a few bytes per concert and are kept on
 *   purpose with no TTL: restarting seq would reissue ticket numbers that old, still-valid
 *   signed tokens carry, and hand those holders someone else's place.
 */

export interface RedisQueueStoreOptions {
  /** Key prefix; tests isolate themselves with a random one. */
  prefix?: string;
  /**
   * Most tickets one advance touches per phase (lapsed, idle, admitted), so that a huge
   * backlog never blocks Redis for long; the rest waits for the next step.
   */
  maxBatch?: number;
}

export const DEFAULT_PREFIX = 'bo:';
export const DEFAULT_MAX_BATCH = 1_000;

/** The keys of one concert's line, in the order the scripts take them (see lua/includes/keys.lua). */
export function lineKeys(prefix: string, concertId: string) {
  const base = `${prefix}{${concertId}}:`;
  return {
    seq: `${base}seq`,
    waiting: `${base}waiting`,
    seen: `${base}seen`,
    active: `${base}active`,
    users: `${base}users`,
    owners: `${base}owners`,
    admitted: `${base}admitted`,
    settings: `${base}settings`,
  };
}

export function registryKey(prefix: string): string {
  return `${prefix}concerts`;
}

const SCRIPTS = {
  join: 8,
  view: 7,
  'view-many': 7,
  leave: 5,
  advance: 7,
  counts: 2,
  'update-settings': 1,
} as const;
type ScriptName = keyof typeof SCRIPTS;
const READ_ONLY_SCRIPTS: ReadonlySet<ScriptName> = new Set(['counts']);

type ScriptArg = string | number;
type ScriptFn = (...keysThenArgs: ScriptArg[]) => Promise<unknown>;

/** ioredis method name of a script; prefixed because it lands on a connection the caller owns. */
function commandName(script: ScriptName): string {
  return `boQueue${script.replace(/(^|-)([a-z])/g, (_, _dash: string, c: string) => c.toUpperCase())}`;
}

/**
 * Where the .lua files are: next to this module when run from source (tsx, vitest), or — since
 * the build copies only .ts output — under src/queue/lua of the package when run from dist.
 */
function findScriptDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, 'lua');
  if (existsSync(beside)) return beside;
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      const fromRoot = join(dir, 'src', 'queue', 'lua');
      if (existsSync(fromRoot)) return fromRoot;
      break;
    }
    if (dirname(dir) === dir) break;
  }
  throw new Error(`queue Lua scripts not found next to ${here} nor under the package's src/queue/lua`);
}

const SCRIPT_FILE = /^([a-z][a-z-]*)-(\d+)\.lua$/;
const INCLUDE_LINE = /^--- @include "([a-z-]+)"[ \t]*$/gm;

/** Inlines `--- @include "name"` lines (lua/includes/name.lua), each fragment once per script. */
function expandIncludes(source: string, dir: string, included: Set<string>): string {
  return source.replace(INCLUDE_LINE, (_, name: string) => {
    if (included.has(name)) return '';
    included.add(name);
    const fragment = readFileSync(join(dir, 'includes', `${name}.lua`), 'utf8');
    return expandIncludes(fragment, dir, included);
  });
}

let loadedScripts: Map<ScriptName, string> | undefined;

function loadScripts(): Map<ScriptName, string> {
  if (loadedScripts) return loadedScripts;
  const dir = findScriptDir();
  const scripts = new Map<ScriptName, string>();
  for (const file of readdirSync(dir)) {
    const match = SCRIPT_FILE.exec(file);
    if (!match) continue;
    const [, name, keys] = match;
    if (!name || !(name in SCRIPTS)) throw new Error(`unexpected queue script ${file}`);
    const script = name as ScriptName;
    // The key count lives in the file name (BullMQ style); a mismatch would silently shift
    // KEYS into ARGV, so refuse it.
    if (Number(keys) !== SCRIPTS[script]) {
      throw new Error(`queue script ${file} should take ${SCRIPTS[script]} keys`);
    }
    scripts.set(script, expandIncludes(readFileSync(join(dir, file), 'utf8'), dir, new Set()));
  }
  for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
    if (!scripts.has(name)) throw new Error(`queue script ${name}-${SCRIPTS[name]}.lua is missing in ${dir}`);
  }
  loadedScripts = scripts;
  return scripts;
}

function toInt(value: unknown, what: string): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw new Error(`queue store: ${what} is not a number: ${String(value)}`);
  }
  return n;
}

function toArray(reply: unknown, what: string): unknown[] {
  if (!Array.isArray(reply)) throw new Error(`queue store: ${what} reply is not an array`);
  return reply;
}

function decodeSettings(values: unknown[], offset: number): QueueSettings {
  return {
    maxActive: toInt(values[offset], 'maxActive'),
    admitPerSecond: toInt(values[offset + 1], 'admitPerSecond'),
    paused: toInt(values[offset + 2], 'paused') === 1,
  };
}

/** Decodes a view as lua/includes/view.lua encodes it, starting at `offset`. */
function decodeView(values: unknown[], offset: number): TicketView {
  const state = toInt(values[offset], 'state');
  if (state === 0) return { state: 'EXPIRED' };
  if (state === 1) return { state: 'ACTIVE', activeUntil: toInt(values[offset + 1], 'activeUntil') };
  return {
    state: 'WAITING',
    position: toInt(values[offset + 1], 'position'),
    admissions: {
      count: toInt(values[offset + 2], 'admissions count'),
      spanMs: toInt(values[offset + 3], 'admissions span'),
    },
    settings: decodeSettings(values, offset + 4),
  };
}

export class RedisQueueStore implements QueueStore {
  private readonly prefix: string;
  private readonly maxBatch: number;
  private readonly scripts: Record<ScriptName, ScriptFn>;
  readonly prequeue: RedisPrequeue;

  constructor(
    private readonly redis: Redis,
    private readonly timings: QueueTimings,
    private readonly defaults: QueueSettings,
    options: RedisQueueStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    const commands = redis as unknown as Record<string, ScriptFn>;
    const bound: Partial<Record<ScriptName, ScriptFn>> = {};
    for (const [name, lua] of loadScripts()) {
      const command = commandName(name);
      redis.defineCommand(command, {
        lua,
        numberOfKeys: SCRIPTS[name],
        readOnly: READ_ONLY_SCRIPTS.has(name),
      });
      const fn = commands[command];
      if (!fn) throw new Error(`ioredis did not define ${command}`);
      bound[name] = fn.bind(redis);
    }
    this.scripts = bound as Record<ScriptName, ScriptFn>;
    this.prequeue = new RedisPrequeue(
      redis,
      this.prefix,
      (concertId) => lineKeys(this.prefix, concertId),
      timings.idleTimeoutMs,
      (concertId) => redis.sadd(registryKey(this.prefix), concertId),
      findScriptDir(),
    );
  }

  private defaultArgs(): ScriptArg[] {
    return [this.defaults.maxActive, this.defaults.admitPerSecond, this.defaults.paused ? 1 : 0];
  }

  private lineKeyList(concertId: string): string[] {
    const k = lineKeys(this.prefix, concertId);
    return [k.waiting, k.seen, k.active, k.users, k.owners, k.admitted, k.settings];
  }

  async join(concertId: string, userId: string, now: number): Promise<JoinResult> {
    // The registry add is outside the script on purpose: it is in another slot, and adding to
    // it again is harmless (it only tells the admission ticker which lines to advance). Sent in
    // the same tick as the script, auto-pipelining puts both in one round trip. Should it
    // fail, the join fails after the ticket was taken; joining again returns that same ticket.
    const [joined] = await Promise.all([
      this.scripts.join(
        lineKeys(this.prefix, concertId).seq,
        ...this.lineKeyList(concertId),
        userId,
        now,
        this.timings.idleTimeoutMs,
        ADMISSION_SAMPLE_WINDOW_MS,
        ...this.defaultArgs(),
      ),
      this.redis.sadd(registryKey(this.prefix), concertId),
    ]);
    const reply = toArray(joined, 'join');
    return {
      ticket: toInt(reply[0], 'ticket'),
      created: toInt(reply[1], 'created') === 1,
      view: decodeView(reply, 2),
    };
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
      owner ?? '',
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
      ...tickets.flatMap(({ ticket, owner }) => [ticket, owner ?? '']),
    );
    return toArray(reply, 'viewMany').map((view) => decodeView(toArray(view, 'viewMany item'), 0));
  }

  async leave(concertId: string, ticket: number, _now: number, owner?: string): Promise<void> {
    await this.scripts.leave(...this.lineKeyList(concertId).slice(0, SCRIPTS.leave), ticket, owner ?? '');
  }

  async advance(concertId: string, now: number): Promise<number> {
    const reply = await this.scripts.advance(
      ...this.lineKeyList(concertId),
      now,
      this.timings.activeTtlMs,
      this.timings.idleTimeoutMs,
      ADMISSION_RATE_WINDOW_MS,
      ADMISSION_SAMPLE_WINDOW_MS,
      this.maxBatch,
      ...this.defaultArgs(),
    );
    return toInt(reply, 'admitted');
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

  /**
   * Only the fields named in the patch are stored; the rest keep following this instance's
   * defaults (which all instances share through config).
   */
  async updateSettings(concertId: string, patch: Partial<QueueSettings>): Promise<QueueSettings> {
    const fields: ScriptArg[] = [];
    if (patch.maxActive !== undefined) fields.push('maxActive', patch.maxActive);
    if (patch.admitPerSecond !== undefined) fields.push('admitPerSecond', patch.admitPerSecond);
    if (patch.paused !== undefined) fields.push('paused', patch.paused ? 1 : 0);
    const reply = await this.scripts['update-settings'](
      lineKeys(this.prefix, concertId).settings,
      ...this.defaultArgs(),
      ...fields,
    );
    return decodeSettings(toArray(reply, 'updateSettings'), 0);
  }

  async concertIds(): Promise<string[]> {
    return this.redis.smembers(registryKey(this.prefix));
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  /** The connection belongs to the caller, who may share it; closing it is theirs to do. */
  async close(): Promise<void> {}
}
