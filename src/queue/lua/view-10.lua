--[[
  The state of a ticket at `now`; with touch, a WAITING ticket is marked as seen, which keeps
  it from being dropped as idle. A lapsed ACTIVE or idle WAITING ticket is removed and EXPIRED.

  Input:
    KEYS[1..10]  the line's keys (see includes/keys.lua)

    ARGV[1]  ticket
    ARGV[2]  now (ms since epoch, the caller's clock)
    ARGV[3]  touch (0/1)
    ARGV[4]  idleTimeoutMs
    ARGV[5]  sampleWindowMs
    ARGV[6]  default maxActive
    ARGV[7]  default admitPerSecond
    ARGV[8]  default paused (0/1)
    ARGV[9]  owner: the ticket's user (member), or '' not to check (another user's ticket reads EXPIRED)

  Output:
    view  (encoding: see includes/view.lua)
]]
--- @include "keys"
--- @include "current-state"
--- @include "view"

local k = lineKeys(1)
local ticket = ticketString(ARGV[1])
local now = tonumber(ARGV[2])

local meta = readMeta(k)
local state, found = currentState(k, meta, ticket, ARGV[9], now, tonumber(ARGV[4]))
if state == 'ACTIVE' then
  return activeView(found)
elseif state == 'WAITING' then
  if ARGV[3] == '1' then
    setSeen(k, meta, ticket, now)
  end
  return waitingView(k, found, now, tonumber(ARGV[5]), ARGV[6], ARGV[7], ARGV[8])
end
return expiredView(found)
