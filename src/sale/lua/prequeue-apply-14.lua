--[[
  Puts the drawn pre-queue into the line, once: the r-th drawn ticket's user gets line ticket
  base + r, WAITING and seen now, exactly as the line's join writes a waiter (the user's member
  in `waiting` scored by its ticket, its last sign of life in `seen`, its block in
  `seenBlocks`). base + r lies in the range close.lua reserved, so drawn tickets sort ahead of
  every later join. Then the pre-queue is 'open' and its per-user entries are gone. A second
  call (another instance that drew the same order) does nothing.

  Input:
    KEYS[1]  pre         HASH
    KEYS[2]  pre-users   HASH
    KEYS[3]  pre-owners  HASH  ticket -> user member (a UUID's 16 bytes, as join stores it)
    KEYS[4]  pre-seen    ZSET
    KEYS[5..14]  the line's keys (see src/queue/lua/includes/keys.lua)

    ARGV[1]  now (ms)
    ARGV[2…] the frozen pre-queue tickets in drawn order

  Output:
    1 applied now, 0 already applied
]]
--- @include "keys"
--- @include "seen"

if redis.call('HGET', KEYS[1], 'state') ~= 'closed' then
  return 0
end
local k = lineKeys(5)
local n = #ARGV - 1
if n ~= redis.call('HLEN', KEYS[3]) then
  return redis.error_reply('draw does not match the frozen pre-queue')
end
local base = tonumber(redis.call('HGET', KEYS[1], 'base'))
local now = tonumber(ARGV[1])
local meta = readMeta(k)
if n > 0 and not meta then
  return redis.error_reply('the line lost its counters before the draw was applied')
end
if n > 0 and meta.seenBase > base + 1 then
  -- An admission step found the line empty after the close and moved `seen` past the
  -- reserved tickets: bring it back while nobody waits, or their signs of life are lost.
  if redis.call('ZCARD', k.waiting) > 0 then
    return redis.error_reply('the line moved past the reserved draw while people wait')
  end
  redis.call('DEL', k.seen, k.seenBlocks, k.bits)
  redis.call('HSET', k.meta, 'seenBase', ticketString(base + 1))
  meta = readMeta(k)
end
for r = 1, n do
  local owner = redis.call('HGET', KEYS[3], ARGV[r + 1])
  if not owner then
    return redis.error_reply('draw names a ticket that is not pre-queued: ' .. ARGV[r + 1])
  end
  local ticket = ticketString(base + r)
  redis.call('ZADD', k.waiting, ticket, owner)
  setSeen(k, meta, ticket, now)
  noteNewSeen(k, meta, ticket, now)
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('HSET', KEYS[1], 'state', 'open')
return 1
