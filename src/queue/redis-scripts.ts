import { join } from 'node:path';
import { scriptDir } from '../redis/scripts.js';

/** The line's Lua scripts (src/queue/lua/name-N.lua: N keys), as redis/scripts.ts loads them. */
const SCRIPTS = {
  join: 10,
  view: 10,
  'view-many': 10,
  leave: 10,
  advance: 10,
  counts: 2,
  'update-settings': 1,
  register: 1,
  unregister: 1,
  picture: 10,
} as const;
export type ScriptName = keyof typeof SCRIPTS;

/** The queue's Lua: the line's scripts, and the fragments they (and the pre-queue's) include. */
const LUA_DIR = scriptDir(import.meta.url, 'src/queue/lua');

/** The line's scripts: every state change is one of them. */
export const LINE_SCRIPTS = {
  dir: LUA_DIR,
  includes: join(LUA_DIR, 'includes'),
  keys: SCRIPTS,
  readOnly: ['counts', 'picture'] as ScriptName[],
  commandPrefix: 'boQueue',
};
