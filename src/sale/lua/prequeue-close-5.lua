--[[
  Closes the pre-queue at the opening, once: drops idle tickets, freezes the list of those
  still present and reserves line tickets base+1 … base+n for them (by moving the sequence on),
  so everyone who joins the line after the opening comes behind them. Calling it again returns
  the same frozen list and base, so every instance draws the same order from it.

  Input:
    KEYS[1]  meta        HASH    the line's counters (seq, base, seenBase)
    KEYS[2]  pre         HASH    state, base
    KEYS[3]  pre-users   HASH
    KEYS[4]  pre-owners  HASH
    KEYS[5]  pre-seen    ZSET

    ARGV[1]  now (ms)
    ARGV[2]  idleTimeoutMs

  Output:
    {'open', base} when already drawn, else {'closed', base, ticket, ticket, …} (unsorted)
]]
local state = redis.call('HGET', KEYS[2], 'state')
if state == 'open' then
  return {'open', tonumber(redis.call('HGET', KEYS[2], 'base'))}
end
if state ~= 'closed' then
  local idle = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
  for i = 1, #idle do
    local owner = redis.call('HGET', KEYS[4], idle[i])
    redis.call('HDEL', KEYS[4], idle[i])
    redis.call('ZREM', KEYS[5], idle[i])
    if owner and redis.call('HGET', KEYS[3], owner) == idle[i] then
      redis.call('HDEL', KEYS[3], owner)
    end
  end
  local n = redis.call('HLEN', KEYS[4])
  -- Never creates the sequence when nobody waits: a missing one must stay missing.
  local base = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
  if n > 0 then
    if not redis.call('HGET', KEYS[1], 'seq') then
      local now = tonumber(ARGV[1])
      local start = string.format('%.0f', now * 1000)
      redis.call('HSET', KEYS[1], 'seq', start, 'base', start, 'seenBase', string.format('%.0f', now * 1000 + 1))
    end
    base = redis.call('HINCRBY', KEYS[1], 'seq', n) - n
  end
  redis.call('HSET', KEYS[2], 'state', 'closed', 'base', string.format('%.0f', base))
end
local out = {'closed', tonumber(redis.call('HGET', KEYS[2], 'base'))}
local tickets = redis.call('HKEYS', KEYS[4])
for i = 1, #tickets do
  out[#out + 1] = tonumber(tickets[i])
end
return out
