/**
 * Every Redis key of the service, in one place: which keys a concert owns, and the few that
 * belong to no concert. Everything a concert owns shares the hash tag `{concertId}`, so every
 * script touches a single slot and runs on Redis Cluster; the registry of lines, the loss
 * marker and the rate budgets live in other slots and are only ever touched by single-key
 * commands. The Lua side names the line's keys in the same order (queue/lua/includes/keys.lua).
 */

/** The prefix of every key; tests isolate themselves with a random one. */
export const DEFAULT_PREFIX = 'bo:';

function concertBase(prefix: string, concertId: string): string {
  return `${prefix}{${concertId}}:`;
}

/** The keys of one concert's line, in the order the scripts take them (see queue/lua/includes/keys.lua). */
export function lineKeys(prefix: string, concertId: string) {
  const base = concertBase(prefix, concertId);
  return {
    meta: `${base}meta`,
    waiting: `${base}waiting`,
    seen: `${base}seen`,
    active: `${base}active`,
    users: `${base}users`,
    owners: `${base}owners`,
    admitted: `${base}admitted`,
    settings: `${base}settings`,
    seenBlocks: `${base}seenBlocks`,
    bits: `${base}bits`,
  };
}

/** The pre-queue's keys of a scheduled sale (sale/), next to the line's under the same hash tag. */
export function prequeueKeys(prefix: string, concertId: string) {
  const base = concertBase(prefix, concertId);
  return {
    pre: `${base}pre`,
    users: `${base}pre-users`,
    owners: `${base}pre-owners`,
    seen: `${base}pre-seen`,
  };
}

/** The concert's seat-state version (concerts/seat-changes.ts), under its hash tag beside its line (Redis Cluster safe). */
export function seatVersionKey(prefix: string, concertId: string): string {
  return `${concertBase(prefix, concertId)}seat-version`;
}

/**
 * Every key a concert owns: what a cleanup deletes to forget the concert's line, pre-queue and
 * seat version (a cleanup then also takes the concert off `registryKey`).
 */
export function allKeysOf(concertId: string, prefix = DEFAULT_PREFIX): string[] {
  return [
    ...Object.values(lineKeys(prefix, concertId)),
    ...Object.values(prequeueKeys(prefix, concertId)),
    seatVersionKey(prefix, concertId),
    challengeJoinsKey(prefix, concertId),
  ];
}

/**
 * HASH user -> ticket of each user's latest join of the concert's line (challenge/), so a rejoin
 * that gets its live token back needs no proof of work. Under the concert's hash tag.
 */
export function challengeJoinsKey(prefix: string, concertId: string): string {
  return `${concertBase(prefix, concertId)}pow-joins`;
}

/** A redeemed proof-of-work challenge (challenge/spent-challenges.ts), kept until it expires. */
export function spentChallengeKey(prefix: string, challengeId: string): string {
  return `${prefix}pow:${challengeId}`;
}

/** The registry of lines to advance: ZSET concertId -> time of its latest join (ms). */
export function registryKey(prefix: string): string {
  return `${prefix}lines`;
}

/** A value written once; its vanishing means Redis lost its data. */
export function markerKey(prefix: string): string {
  return `${prefix}marker`;
}

/** The namespace of the request budgets (@fastify/rate-limit), one key per client. */
export function rateLimitNamespace(prefix: string): string {
  return `${prefix}rl:`;
}

/** The prefix of the wrong-key attempt budgets (http/attempt-budget.ts), one key per address. */
export function keyAttemptsPrefix(prefix: string): string {
  return `${prefix}rl:keys:`;
}
