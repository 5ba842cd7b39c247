--[[
  Takes a ticket at the back of the line, or returns the user's WAITING or ACTIVE one (a
  WAITING one counts as seen). A lapsed or idle ticket is dropped and a new one issued.

  Input:
    KEYS[1]  seq       STRING  last ticket issued (INCR)
    KEYS[2]  waiting   ZSET
    KEYS[3]  seen      ZSET
    KEYS[4]  active    ZSET
    KEYS[5]  users     HASH
    KEYS[6]  owners    HASH
    KEYS[7]  admitted  ZSET
    KEYS[8]  settings  HASH

    ARGV[1]  userId
    ARGV[2]  now (ms since epoch, the caller's clock)
    ARGV[3]  idleTimeoutMs
    ARGV[4]  sampleWindowMs
    ARGV[5]  default maxActive
    ARGV[6]  default admitPerSecond
    ARGV[7]  default paused (0/1)

  Output:
    {ticket, created (0/1), view...}  (view encoding: see includes/view.lua)
]]
--- @include "keys"
--- @include "current-state"
--- @include "view"

local seqKey = KEYS[1]
local k = lineKeys(2)
local userId = ARGV[1]
local now = tonumber(ARGV[2])
local idleTimeoutMs = tonumber(ARGV[3])
local sampleWindowMs = tonumber(ARGV[4])

local function reply(ticket, created, view)
  local out = {tonumber(ticket), created}
  for i = 1, #view do
    out[#out + 1] = view[i]
  end
  return out
end

local existing = redis.call('HGET', k.users, userId)
if existing then
  local state, activeUntil = currentState(k, existing, now, idleTimeoutMs)
  if state == 'ACTIVE' then
    return reply(existing, 0, activeView(activeUntil))
  elseif state == 'WAITING' then
    redis.call('ZADD', k.seen, now, existing)
    return reply(existing, 0, waitingView(k, existing, now, sampleWindowMs, ARGV[5], ARGV[6], ARGV[7]))
  end
end

-- Ticket numbers stay below 2^53 and far below 1e14, so tostring gives the exact member.
local ticket = tostring(redis.call('INCR', seqKey))
redis.call('ZADD', k.waiting, ticket, ticket)
redis.call('ZADD', k.seen, now, ticket)
redis.call('HSET', k.users, userId, ticket)
redis.call('HSET', k.owners, ticket, userId)
return reply(ticket, 1, waitingView(k, ticket, now, sampleWindowMs, ARGV[5], ARGV[6], ARGV[7]))
