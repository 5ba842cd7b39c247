import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { uuidToBytes } from '../auth/signer.js';
import type { RedisClient } from './connection.js';

/**
 * The one loader of the service's Lua scripts. A script is a file `name-N.lua`, N the number
 * of KEYS it takes (BullMQ style); `--- @include "x"` lines inline a fragment of an includes
 * directory. Each script becomes an ioredis command on the caller's connection.
 */

export type ScriptArg = string | number | Buffer;
export type ScriptFn = (...keysThenArgs: ScriptArg[]) => Promise<unknown>;

export interface ScriptSet<Name extends string> {
  /** Directory of the `name-N.lua` files (see `scriptDir`). */
  dir: string;
  /** Directory of the fragments `@include` names. */
  includes: string;
  /** Every script of the directory, with the number of keys it takes. */
  keys: Readonly<Record<Name, number>>;
  readOnly?: readonly NoInfer<Name>[];
  /** Prefix of the ioredis command names: they land on a connection the caller owns. */
  commandPrefix: string;
}

/**
 * Where a module's .lua files are: `lua/` next to it when run from source (tsx, vitest), or —
 * since the build copies only .ts output — `sourceDir` (e.g. src/queue/lua) of the package
 * when run from dist.
 */
export function scriptDir(moduleUrl: string, sourceDir: string): string {
  const here = dirname(fileURLToPath(moduleUrl));
  const beside = join(here, 'lua');
  if (existsSync(beside)) return beside;
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      const fromRoot = join(dir, sourceDir);
      if (existsSync(fromRoot)) return fromRoot;
      break;
    }
    if (dirname(dir) === dir) break;
  }
  throw new Error(`Lua scripts not found next to ${here} nor under the package's ${sourceDir}`);
}

const SCRIPT_FILE = /^([a-z][a-z-]*)-(\d+)\.lua$/;
const INCLUDE_LINE = /^--- @include "([a-z-]+)"[ \t]*$/gm;

/** Inlines `--- @include "name"` lines (includes/name.lua), each fragment once per script. */
function expandIncludes(source: string, includes: string, included: Set<string>): string {
  return source.replace(INCLUDE_LINE, (_, name: string) => {
    if (included.has(name)) return '';
    included.add(name);
    return expandIncludes(readFileSync(join(includes, `${name}.lua`), 'utf8'), includes, included);
  });
}

/** Script sources per directory, read once per process. */
const loaded = new Map<string, Map<string, string>>();

function load<Name extends string>(set: ScriptSet<Name>): Map<string, string> {
  const cached = loaded.get(set.dir);
  if (cached) return cached;
  const scripts = new Map<string, string>();
  for (const file of readdirSync(set.dir)) {
    const match = SCRIPT_FILE.exec(file);
    if (!match) continue;
    const [, name, keys] = match;
    if (!name || !(name in set.keys)) throw new Error(`unexpected Lua script ${file} in ${set.dir}`);
    // A key count that does not match would silently shift KEYS into ARGV: refuse it.
    const expected = set.keys[name as Name];
    if (Number(keys) !== expected) throw new Error(`Lua script ${file} should take ${expected} keys`);
    scripts.set(name, expandIncludes(readFileSync(join(set.dir, file), 'utf8'), set.includes, new Set()));
  }
  for (const name of Object.keys(set.keys) as Name[]) {
    if (!scripts.has(name))
      throw new Error(`Lua script ${name}-${set.keys[name]}.lua is missing in ${set.dir}`);
  }
  loaded.set(set.dir, scripts);
  return scripts;
}

/** ioredis command name of a script: the prefix, then the name in camel case. */
function commandName(prefix: string, script: string): string {
  return `${prefix}${script.replace(/(^|-)([a-z])/g, (_, _dash: string, c: string) => c.toUpperCase())}`;
}

/** Defines every script of the set on the connection; returns them bound to it. */
export function defineScripts<Name extends string>(
  redis: RedisClient,
  set: ScriptSet<Name>,
): Record<Name, ScriptFn> {
  const commands = redis as unknown as Record<string, ScriptFn>;
  const bound: Partial<Record<Name, ScriptFn>> = {};
  for (const [name, lua] of load(set)) {
    const command = commandName(set.commandPrefix, name);
    redis.defineCommand(command, {
      lua,
      numberOfKeys: set.keys[name as Name],
      readOnly: set.readOnly?.includes(name as Name) ?? false,
    });
    const fn = commands[command];
    if (!fn) throw new Error(`ioredis did not define ${command}`);
    bound[name as Name] = fn.bind(redis);
  }
  return bound as Record<Name, ScriptFn>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A user as the scripts store them: a UUID as its 16 bytes (a third of its text, and the
 * biggest share of a waiter's cost), any other id as its text, which is never 16 bytes long.
 */
export function userMember(userId: string): Buffer | string {
  if (UUID.test(userId)) return uuidToBytes(userId);
  return Buffer.byteLength(userId) === 16 ? `${userId}\0` : userId;
}
