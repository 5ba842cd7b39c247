import { join } from 'node:path';
import { scriptDir } from '../redis/scripts.js';

/** The line's Lua scripts (src/queue/lua/name-N.lua: N keys), as redis/scripts.ts loads them. */
const SCRIPTS = {
  join: 9,
  view: 9,
  'view-many': 9,
  leave: 9,
  advance: 9,
  counts: 2,
  'update-settings': 1,
  register: 1,
  unregister: 1,
} as const;
export type ScriptName = keyof typeof SCRIPTS;

/** The queue's Lua: the line's scripts, and the fragments they (and the pre-queue's) include. */
const LUA_DIR = scriptDir(import.meta.url, 'src/queue/lua');

/** The line's scripts: every state change is one of them. */
export const LINE_SCRIPTS = {
  dir: LUA_DIR,
  includes: join(LUA_DIR, 'includes'),
  keys: SCRIPTS,
  readOnly: ['counts'] as ScriptName[],
  commandPrefix: 'boQueue',
};
