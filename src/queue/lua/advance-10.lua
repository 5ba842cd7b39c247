--[[
  One admission step. Expires lapsed ACTIVE tickets, drops idle WAITING ones, then admits from
  the front of the line while fewer than maxActive are ACTIVE and fewer than admitPerSecond
  were admitted within the rate window (sliding), unless paused or the line's settings are not
  stored. Being one script, it is atomic: any number of instances may run it at any moment
  without admitting anyone twice or overshooting a limit.

  Each phase touches at most `maxBatch` tickets so that a huge line never blocks Redis for
  long. The idle sweep looks only into blocks that may hold an idle ticket (see
  includes/sweep-idle.lua), so a step costs O(log n) while everyone keeps polling. An idle
  ticket the sweep did not reach is still never admitted (the admission loop drops it) and
  reads EXPIRED.

  Input:
    KEYS[1..10]  the line's keys (see includes/keys.lua)

    ARGV[1]  now (ms since epoch, the caller's clock)
    ARGV[2]  activeTtlMs
    ARGV[3]  idleTimeoutMs
    ARGV[4]  rateWindowMs
    ARGV[5]  sampleWindowMs
    ARGV[6]  maxBatch

  Output:
    {admitted, settingsMissing (0/1), waiting, active, lost (0/1: the line has no counters,
     so it never had a ticket or lost its data)}
]]
--- @include "keys"
--- @include "score"
--- @include "sweep-idle"
--- @include "settings"

local k = lineKeys(1)
local now = tonumber(ARGV[1])
local activeTtlMs = tonumber(ARGV[2])
local idleCutoff = now - tonumber(ARGV[3])
local rateWindowMs = tonumber(ARGV[4])
local sampleWindowMs = tonumber(ARGV[5])
local maxBatch = tonumber(ARGV[6])

local meta = readMeta(k)
if not meta then
  return {0, 0, 0, 0, 1}
end

local lapsed = redis.call('ZRANGEBYSCORE', k.active, '-inf', now, 'LIMIT', 0, maxBatch)
for i = 1, #lapsed do
  removeActive(k, lapsed[i])
end

sweepIdle(k, meta, idleCutoff, math.max(1, math.floor(maxBatch / SEEN_BLOCK)))

redis.call('ZREMRANGEBYSCORE', k.admitted, '-inf', now - sampleWindowMs)

local function done(admitted, settingsMissing)
  local waiting = redis.call('ZCARD', k.waiting)
  if waiting == 0 and meta.seenBase <= meta.seq then
    -- Nobody waits: the next ticket becomes slot 0, so `seen` never spans past lines.
    redis.call('DEL', k.seen, k.seenBlocks, k.bits)
    redis.call('HSET', k.meta, 'seenBase', ticketString(meta.seq + 1))
  end
  return {admitted, settingsMissing, waiting, redis.call('ZCARD', k.active), 0}
end

local maxActive, admitPerSecond, paused = storedSettings(k.settings)
if not maxActive then
  return done(0, 1)
end
if paused == 1 then
  return done(0, 0)
end
-- Counted rather than ZCARD: lapsed tickets beyond the sweep's batch hold no slot.
local activeCount = redis.call('ZCOUNT', k.active, above(now), '+inf')
-- Counts admissions stamped after `now` too: with instances' clocks slightly apart, a step
-- from a clock behind still sees what a clock ahead admitted, so no window overfills.
local admittedRecently = redis.call('ZCOUNT', k.admitted, above(now - rateWindowMs), '+inf')
local budget = math.min(maxActive - activeCount, admitPerSecond - admittedRecently, maxBatch)

-- Admissions are stamped no earlier than the line's newest one. Each instance reads `now`
-- before its script reaches Redis, so a step can run after another's with an earlier `now`;
-- stamped as is, the later tickets it admits would read as admitted first (an activeUntil
-- earlier than that of tickets ahead of them in line).
local stamp = now
local newest = redis.call('ZRANGE', k.admitted, -1, -1, 'WITHSCORES')[2]
if newest and tonumber(newest) > stamp then
  stamp = tonumber(newest)
end

local admitted = 0
local visited = 0
while admitted < budget and visited < maxBatch do
  local head = redis.call('ZPOPMIN', k.waiting)
  if #head == 0 then
    break
  end
  visited = visited + 1
  local user, ticket = head[1], ticketString(head[2])
  local seen = seenAt(k, meta, ticket)
  setSeen(k, meta, ticket, 0)
  if seen > idleCutoff then
    redis.call('ZADD', k.active, stamp + activeTtlMs, ticket)
    redis.call('HSET', k.users, user, ticket)
    redis.call('HSET', k.owners, ticket, user)
    -- Tickets are unique within a line and admitted once, so the ticket is a unique member.
    redis.call('ZADD', k.admitted, stamp, ticket)
    admitted = admitted + 1
  end
end
return done(admitted, 0)
