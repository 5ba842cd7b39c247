--[[
  A pre-queued ticket's state; with touch it counts as seen. An idle one is dropped.

  Input:
    KEYS[1]  pre         HASH
    KEYS[2]  pre-users   HASH
    KEYS[3]  pre-owners  HASH
    KEYS[4]  pre-seen    ZSET

    ARGV[1]  ticket
    ARGV[2]  now (ms)
    ARGV[3]  touch (0/1)
    ARGV[4]  idleTimeoutMs
    ARGV[5]  owner: the ticket's user, or '' not to check

  Output:
    1 pre-queued, 0 not in the pre-queue (EXPIRED), -1 the pre-queue is closed (look in the line)
]]
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'closed' or state == 'open' then
  return -1
end
local ticket = ARGV[1]
local owner = redis.call('HGET', KEYS[3], ticket)
if not owner or (ARGV[5] ~= '' and owner ~= ARGV[5]) then
  return 0
end
local now = tonumber(ARGV[2])
local seen = redis.call('ZSCORE', KEYS[4], ticket)
if not seen or tonumber(seen) <= now - tonumber(ARGV[4]) then
  redis.call('HDEL', KEYS[3], ticket)
  redis.call('ZREM', KEYS[4], ticket)
  if redis.call('HGET', KEYS[2], owner) == ticket then
    redis.call('HDEL', KEYS[2], owner)
  end
  return 0
end
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[4], now, ticket)
end
return 1
