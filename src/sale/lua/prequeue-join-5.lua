--[[
  Joins a concert's pre-queue (before its sale opens), or returns the user's pre-queued ticket
  (marking it seen). Tickets come from the line's own sequence, so they never collide with
  line tickets and a token's ticket number never changes. An idle ticket is dropped and a new
  one issued, as in the line.

  Input:
    KEYS[1]  meta        HASH    the line's counters (src/queue/lua/includes/keys.lua): seq is the ticket sequence (INCR)
    KEYS[2]  pre         HASH    state: absent/'pre' = accepting, 'closed' = frozen, 'open' = drawn
    KEYS[3]  pre-users   HASH    userId -> ticket
    KEYS[4]  pre-owners  HASH    ticket -> userId
    KEYS[5]  pre-seen    ZSET    ticket -> last seen ms

    ARGV[1]  userId
    ARGV[2]  now (ms)
    ARGV[3]  idleTimeoutMs

  Output:
    {ticket, created (0/1)}, or {-1} when the pre-queue is already closed (join the line)
]]
local state = redis.call('HGET', KEYS[2], 'state')
if state == 'closed' or state == 'open' then
  return {-1}
end
local userId = ARGV[1]
local now = tonumber(ARGV[2])
local existing = redis.call('HGET', KEYS[3], userId)
if existing then
  local seen = redis.call('ZSCORE', KEYS[5], existing)
  if seen and tonumber(seen) > now - tonumber(ARGV[3]) then
    redis.call('ZADD', KEYS[5], now, existing)
    return {tonumber(existing), 0}
  end
  redis.call('HDEL', KEYS[4], existing)
  redis.call('ZREM', KEYS[5], existing)
end
if not redis.call('HGET', KEYS[1], 'seq') then
  -- The line's numbering starts here, as the line's join starts it (clock ms x 1000).
  local base = string.format('%.0f', now * 1000)
  redis.call('HSET', KEYS[1], 'seq', base, 'base', base, 'seenBase', string.format('%.0f', now * 1000 + 1))
end
local ticket = string.format('%.0f', redis.call('HINCRBY', KEYS[1], 'seq', 1))
redis.call('HSET', KEYS[2], 'state', 'pre')
redis.call('HSET', KEYS[3], userId, ticket)
redis.call('HSET', KEYS[4], ticket, userId)
redis.call('ZADD', KEYS[5], now, ticket)
return {tonumber(ticket), 1}
