--[[
  The state of a ticket at `now`; with touch, a WAITING ticket is marked as seen, which keeps
  it from being dropped as idle. A lapsed ACTIVE or idle WAITING ticket is removed and EXPIRED.

  Input:
    KEYS[1]  waiting   ZSET
    KEYS[2]  seen      ZSET
    KEYS[3]  active    ZSET
    KEYS[4]  users     HASH
    KEYS[5]  owners    HASH
    KEYS[6]  admitted  ZSET
    KEYS[7]  settings  HASH

    ARGV[1]  ticket
    ARGV[2]  now (ms since epoch, the caller's clock)
    ARGV[3]  touch (0/1)
    ARGV[4]  idleTimeoutMs
    ARGV[5]  sampleWindowMs
    ARGV[6]  default maxActive
    ARGV[7]  default admitPerSecond
    ARGV[8]  default paused (0/1)
    ARGV[9]  owner: the ticket's user, or '' not to check (another user's ticket reads EXPIRED)

  Output:
    view  (encoding: see includes/view.lua)
]]
--- @include "keys"
--- @include "current-state"
--- @include "view"

local k = lineKeys(1)
local ticket = ARGV[1]
local now = tonumber(ARGV[2])

if ARGV[9] ~= '' and redis.call('HGET', k.owners, ticket) ~= ARGV[9] then
  return {0}
end

local state, activeUntil = currentState(k, ticket, now, tonumber(ARGV[4]))
if state == 'ACTIVE' then
  return activeView(activeUntil)
elseif state == 'WAITING' then
  if ARGV[3] == '1' then
    redis.call('ZADD', k.seen, now, ticket)
  end
  return waitingView(k, ticket, now, tonumber(ARGV[5]), ARGV[6], ARGV[7], ARGV[8])
end
return {0}
