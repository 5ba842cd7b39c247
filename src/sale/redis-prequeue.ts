import type { RedisLineAccess } from '../queue/prequeue-line.js';
import { lineKeys, prequeueKeys } from '../redis/keys.js';
import { defineScripts, type ScriptFn, scriptDir, userMember } from '../redis/scripts.js';
import type { PrequeueClosed, PrequeueStore } from './prequeue-store.js';

const SCRIPT_KEYS = {
  'prequeue-join': 5,
  'prequeue-view': 4,
  'prequeue-leave': 4,
  'prequeue-close': 5,
  'prequeue-apply': 14,
  'prequeue-count': 2,
} as const;
type Name = keyof typeof SCRIPT_KEYS;
const LUA_DIR = scriptDir(import.meta.url, 'src/sale/lua');

/**
 * The pre-queue in Redis: one Lua script per step (src/sale/lua/prequeue-*.lua), writing the
 * line's own keys where the pre-queue meets the line (ticket sequence, drawn users).
 */
export class RedisPrequeue implements PrequeueStore {
  private readonly scripts: Record<Name, ScriptFn>;

  private readonly prefix: string;
  private readonly idleTimeoutMs: number;
  private readonly onJoin: (concertId: string, now: number) => Promise<unknown>;

  constructor(line: RedisLineAccess) {
    this.prefix = line.prefix;
    this.idleTimeoutMs = line.idleTimeoutMs;
    this.onJoin = (concertId, now) => line.register(concertId, now);
    this.scripts = defineScripts(line.redis, {
      dir: LUA_DIR,
      includes: line.luaIncludes,
      keys: SCRIPT_KEYS,
      readOnly: ['prequeue-count'],
      commandPrefix: 'bo',
    });
  }

  private lineKeysOf(concertId: string) {
    return lineKeys(this.prefix, concertId);
  }

  private keys(concertId: string) {
    const k = prequeueKeys(this.prefix, concertId);
    return [k.pre, k.users, k.owners, k.seen];
  }

  async prequeueJoin(concertId: string, userId: string, now: number) {
    const [reply] = await Promise.all([
      this.scripts['prequeue-join'](
        this.lineKeysOf(concertId).meta,
        ...this.keys(concertId),
        userMember(userId),
        now,
        this.idleTimeoutMs,
      ) as Promise<number[]>,
      this.onJoin(concertId, now),
    ]);
    if (reply[0] === -1) return null;
    return { ticket: Number(reply[0]), created: reply[1] === 1 };
  }

  async prequeueView(concertId: string, ticket: number, now: number, touch: boolean, owner?: string) {
    const reply = await this.scripts['prequeue-view'](
      ...this.keys(concertId),
      ticket,
      now,
      touch ? 1 : 0,
      this.idleTimeoutMs,
      owner === undefined ? '' : userMember(owner),
    );
    return reply === 1 ? 'PREQUEUED' : reply === -1 ? 'CLOSED' : 'EXPIRED';
  }

  async prequeueLeave(concertId: string, ticket: number, owner?: string) {
    const reply = await this.scripts['prequeue-leave'](
      ...this.keys(concertId),
      ticket,
      owner === undefined ? '' : userMember(owner),
    );
    return reply === -1 ? 'CLOSED' : 'LEFT';
  }

  async prequeueCount(concertId: string): Promise<number> {
    const k = prequeueKeys(this.prefix, concertId);
    return Number(await this.scripts['prequeue-count'](k.pre, k.owners));
  }

  async closePrequeue(concertId: string, now: number): Promise<PrequeueClosed> {
    const reply = (await this.scripts['prequeue-close'](
      this.lineKeysOf(concertId).meta,
      ...this.keys(concertId),
      now,
      this.idleTimeoutMs,
    )) as [string, number, ...number[]];
    const [state, base, ...tickets] = reply;
    return {
      state: state === 'open' ? 'OPEN' : 'CLOSED',
      base: Number(base),
      tickets: tickets.map(Number).sort((a, b) => a - b),
    };
  }

  async applyDraw(concertId: string, order: readonly number[], now: number): Promise<boolean> {
    const line = this.lineKeysOf(concertId);
    const reply = await this.scripts['prequeue-apply'](
      ...this.keys(concertId),
      ...Object.values(line),
      now,
      ...order,
    );
    // The draw filled the line without a join, and the admission ticker skips a line it last saw
    // empty until its latest join moves: record one, as a join would. Every instance that gets
    // here does it, whoever applied, so an instance that died between the two steps leaves no
    // line of drawn users that no ticker steps.
    await this.onJoin(concertId, now);
    return reply === 1;
  }
}
