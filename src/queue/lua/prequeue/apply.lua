--[[
  Puts the drawn pre-queue into the line, once: the r-th drawn ticket's user gets line ticket
  base + r, WAITING and seen now, exactly as a join would have made it. Then the pre-queue is
  'open' and its per-user entries are gone. A second call (another instance that drew the same
  order) does nothing.

  Input:
    KEYS[1]  pre         HASH
    KEYS[2]  pre-users   HASH
    KEYS[3]  pre-owners  HASH
    KEYS[4]  pre-seen    ZSET
    KEYS[5]  waiting     ZSET  (the line's keys, as in lua/includes/keys.lua)
    KEYS[6]  seen        ZSET
    KEYS[7]  users       HASH
    KEYS[8]  owners      HASH

    ARGV[1]  now (ms)
    ARGV[2…] the frozen pre-queue tickets in drawn order

  Output:
    1 applied now, 0 already applied
]]
if redis.call('HGET', KEYS[1], 'state') ~= 'closed' then
  return 0
end
local n = #ARGV - 1
if n ~= redis.call('HLEN', KEYS[3]) then
  return redis.error_reply('draw does not match the frozen pre-queue')
end
local base = tonumber(redis.call('HGET', KEYS[1], 'base'))
local now = ARGV[1]
for r = 1, n do
  local owner = redis.call('HGET', KEYS[3], ARGV[r + 1])
  if not owner then
    return redis.error_reply('draw names a ticket that is not pre-queued: ' .. ARGV[r + 1])
  end
  local ticket = string.format('%d', base + r)
  redis.call('ZADD', KEYS[5], ticket, ticket)
  redis.call('ZADD', KEYS[6], now, ticket)
  redis.call('HSET', KEYS[7], owner, ticket)
  redis.call('HSET', KEYS[8], ticket, owner)
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('HSET', KEYS[1], 'state', 'open')
return 1
