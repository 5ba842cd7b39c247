import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PrequeueClosed, PrequeueStore } from './prequeue-store.js';
import { expandIncludes, type lineKeys, type RedisClient, userMember } from './redis-queue-store.js';

/** The pre-queue's keys, next to the line's under the same hash tag (one slot per concert). */
export function prequeueKeys(prefix: string, concertId: string) {
  const base = `${prefix}{${concertId}}:`;
  return {
    pre: `${base}pre`,
    users: `${base}pre-users`,
    owners: `${base}pre-owners`,
    seen: `${base}pre-seen`,
  };
}

/** The line keys the pre-queue scripts write into (see lua/includes/keys.lua), in that order. */
export type LineKeysForDraw = ReturnType<typeof lineKeys>;

type ScriptFn = (...keysThenArgs: (string | number | Buffer)[]) => Promise<unknown>;
const SCRIPT_KEYS = { join: 5, view: 4, leave: 4, close: 5, apply: 13, count: 2 } as const;
type Name = keyof typeof SCRIPT_KEYS;

/** The pre-queue in Redis: one Lua script per step (src/queue/lua/prequeue). */
export class RedisPrequeue implements PrequeueStore {
  private readonly scripts: Record<Name, ScriptFn>;

  constructor(
    redis: RedisClient,
    private readonly prefix: string,
    private readonly lineKeysOf: (concertId: string) => LineKeysForDraw,
    private readonly idleTimeoutMs: number,
    private readonly onJoin: (concertId: string, now: number) => Promise<unknown>,
    scriptDir: string,
  ) {
    const dir = join(scriptDir, 'prequeue');
    const files = new Set(readdirSync(dir));
    const bound: Partial<Record<Name, ScriptFn>> = {};
    for (const name of Object.keys(SCRIPT_KEYS) as Name[]) {
      if (!files.has(`${name}.lua`)) throw new Error(`pre-queue script ${name}.lua is missing in ${dir}`);
      const command = `boPrequeue${name[0]!.toUpperCase()}${name.slice(1)}`;
      redis.defineCommand(command, {
        lua: expandIncludes(readFileSync(join(dir, `${name}.lua`), 'utf8'), scriptDir, new Set()),
        numberOfKeys: SCRIPT_KEYS[name],
        readOnly: name === 'count',
      });
      bound[name] = (redis as unknown as Record<string, ScriptFn>)[command]!.bind(redis);
    }
    this.scripts = bound as Record<Name, ScriptFn>;
  }

  private keys(concertId: string) {
    const k = prequeueKeys(this.prefix, concertId);
    return [k.pre, k.users, k.owners, k.seen];
  }

  async prequeueJoin(concertId: string, userId: string, now: number) {
    const [reply] = await Promise.all([
      this.scripts.join(
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
    const reply = await this.scripts.view(
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
    const reply = await this.scripts.leave(
      ...this.keys(concertId),
      ticket,
      owner === undefined ? '' : userMember(owner),
    );
    return reply === -1 ? 'CLOSED' : 'LEFT';
  }

  async prequeueCount(concertId: string): Promise<number> {
    const k = prequeueKeys(this.prefix, concertId);
    return Number(await this.scripts.count(k.pre, k.owners));
  }

  async closePrequeue(concertId: string, now: number): Promise<PrequeueClosed> {
    const reply = (await this.scripts.close(
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
    const reply = await this.scripts.apply(...this.keys(concertId), ...Object.values(line), now, ...order);
    // The draw filled the line without a join, and the admission ticker skips a line it last saw
    // empty until its latest join moves: record one, as a join would. Every instance that gets
    // here does it, whoever applied, so an instance that died between the two steps leaves no
    // line of drawn users that no ticker steps.
    await this.onJoin(concertId, now);
    return reply === 1;
  }
}
