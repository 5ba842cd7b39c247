--- @include "settings"

--[[
  A ticket's view as the store returns it to Node:
    EXPIRED  {0, lost (0/1: issued before the line lost its data)}
    ACTIVE   {1, activeUntil}
    WAITING  {2, position, admissionsCount, admissionsSpanMs, maxActive, admitPerSecond, paused}
]]
local function expiredView(lost)
  return {0, lost and 1 or 0}
end

local function activeView(activeUntil)
  return {1, activeUntil}
end

-- `user` is the WAITING ticket's member in `waiting`.
local function waitingView(k, user, now, sampleWindowMs, defaultMaxActive, defaultAdmitPerSecond,
    defaultPaused)
  redis.call('ZREMRANGEBYSCORE', k.admitted, '-inf', now - sampleWindowMs)
  local count = redis.call('ZCARD', k.admitted)
  local spanMs = 0
  if count > 0 then
    local oldest = redis.call('ZRANGE', k.admitted, 0, 0, 'WITHSCORES')
    spanMs = now - tonumber(oldest[2])
  end
  -- ZRANK is O(log n): a status poll never walks the line.
  local position = redis.call('ZRANK', k.waiting, user) + 1
  local maxActive, admitPerSecond, paused =
    readSettings(k.settings, defaultMaxActive, defaultAdmitPerSecond, defaultPaused)
  return {2, position, count, spanMs, maxActive, admitPerSecond, paused}
end
