--[[
  One admission step. Expires lapsed ACTIVE tickets, drops idle WAITING ones, then admits from
  the front of the line while fewer than maxActive are ACTIVE and fewer than admitPerSecond
  were admitted within the rate window (sliding), unless paused. Being one script, it is atomic:
  any number of instances may run it at any moment without admitting anyone twice or
  overshooting a limit.

  Each phase touches at most `maxBatch` tickets so that a huge backlog never blocks Redis for
  long; whatever is left waits for the next step. An idle ticket the sweep did not reach is
  still never admitted: the admission loop drops it instead.

  Input:
    KEYS[1]  waiting   ZSET
    KEYS[2]  seen      ZSET
    KEYS[3]  active    ZSET
    KEYS[4]  users     HASH
    KEYS[5]  owners    HASH
    KEYS[6]  admitted  ZSET
    KEYS[7]  settings  HASH

    ARGV[1]  now (ms since epoch, the caller's clock)
    ARGV[2]  activeTtlMs
    ARGV[3]  idleTimeoutMs
    ARGV[4]  rateWindowMs
    ARGV[5]  sampleWindowMs
    ARGV[6]  maxBatch
    ARGV[7]  default maxActive
    ARGV[8]  default admitPerSecond
    ARGV[9]  default paused (0/1)

  Output:
    number of tickets admitted
]]
--- @include "keys"
--- @include "score"
--- @include "remove-ticket"
--- @include "settings"

local k = lineKeys(1)
local now = tonumber(ARGV[1])
local activeTtlMs = tonumber(ARGV[2])
local idleCutoff = now - tonumber(ARGV[3])
local rateWindowMs = tonumber(ARGV[4])
local sampleWindowMs = tonumber(ARGV[5])
local maxBatch = tonumber(ARGV[6])

local lapsed = redis.call('ZRANGEBYSCORE', k.active, '-inf', now, 'LIMIT', 0, maxBatch)
for i = 1, #lapsed do
  removeTicket(k, lapsed[i])
end

local idle = redis.call('ZRANGEBYSCORE', k.seen, '-inf', idleCutoff, 'LIMIT', 0, maxBatch)
for i = 1, #idle do
  removeTicket(k, idle[i])
end

redis.call('ZREMRANGEBYSCORE', k.admitted, '-inf', now - sampleWindowMs)

local maxActive, admitPerSecond, paused =
  readSettings(k.settings, ARGV[7], ARGV[8], ARGV[9])
if paused == 1 then
  return 0
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
  local head = redis.call('ZRANGE', k.waiting, 0, 0)[1]
  if not head then
    break
  end
  visited = visited + 1
  local seen = redis.call('ZSCORE', k.seen, head)
  if seen and tonumber(seen) <= idleCutoff then
    removeTicket(k, head)
  else
    redis.call('ZREM', k.waiting, head)
    redis.call('ZREM', k.seen, head)
    redis.call('ZADD', k.active, stamp + activeTtlMs, head)
    -- Tickets are unique within a line and admitted once, so the ticket is a unique member.
    redis.call('ZADD', k.admitted, stamp, head)
    admitted = admitted + 1
  end
end
return admitted
