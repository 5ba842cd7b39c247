--[[
  Joins a concert's pre-queue (before its sale opens), or returns the user's pre-queued ticket
  (marking it seen). Tickets come from the line's own sequence, so they never collide with
  line tickets and a token's ticket number never changes. An idle ticket is dropped and a new
  one issued, as in the line.

  Input:
    KEYS[1]  seq         STRING  the line's ticket sequence (INCR)
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
local ticket = tostring(redis.call('INCR', KEYS[1]))
redis.call('HSET', KEYS[2], 'state', 'pre')
redis.call('HSET', KEYS[3], userId, ticket)
redis.call('HSET', KEYS[4], ticket, userId)
redis.call('ZADD', KEYS[5], now, ticket)
return {tonumber(ticket), 1}
