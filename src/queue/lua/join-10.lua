--[[
  Joins users to the line, in the order given (one, or the joins of one turn of an instance's
  event loop, gathered by QueueService with src/shared/turn-batcher.ts). Each takes a ticket at
  the back of the line, or gets their WAITING or ACTIVE one back (a WAITING one counts as seen);
  a lapsed or idle ticket is dropped and a new one issued. The same user twice gets the same ticket twice.

  Input:
    KEYS[1..10]  the line's keys (see includes/keys.lua)

    ARGV[1]  now (ms since epoch, the caller's clock)
    ARGV[2]  idleTimeoutMs
    ARGV[3]  sampleWindowMs
    ARGV[4]  default maxActive
    ARGV[5]  default admitPerSecond
    ARGV[6]  default paused (0/1)
    ARGV[7…] users (members: a UUID's 16 bytes)

  Output:
    {reply, reply, …}  one per user, in order, each
    {ticket, created (0/1), started (0/1: this join started the line's numbering), view...}
    (view encoding: see includes/view.lua)
]]
--- @include "keys"
--- @include "current-state"
--- @include "view"

-- `d`: the default settings (maxActive, admitPerSecond, paused) a view shows while the line's
-- own are not stored.
local function joinOne(k, user, now, idleTimeoutMs, sampleWindowMs, d)
  local started = 0

  local function reply(ticket, created, view)
    local out = {tonumber(ticket), created, started}
    for i = 1, #view do
      out[#out + 1] = view[i]
    end
    return out
  end

  local meta = readMeta(k)
  if meta then
    local waitingTicket = redis.call('ZSCORE', k.waiting, user)
    if waitingTicket then
      waitingTicket = ticketString(waitingTicket)
      if seenAt(k, meta, waitingTicket) > now - idleTimeoutMs then
        setSeen(k, meta, waitingTicket, now)
        return reply(waitingTicket, 0, waitingView(k, user, now, sampleWindowMs, d[1], d[2], d[3]))
      end
      removeWaiting(k, meta, user, waitingTicket)
    end
    local activeTicket = redis.call('HGET', k.users, user)
    if activeTicket then
      local activeUntil = redis.call('ZSCORE', k.active, activeTicket)
      if activeUntil and tonumber(activeUntil) > now then
        return reply(activeTicket, 0, activeView(tonumber(activeUntil)))
      end
      removeActive(k, activeTicket)
    end
  else
    -- No counter: the line is new, or Redis lost its data. Either way numbering starts above
    -- anything an earlier life can have issued (the clock in ms × 1000, unless it issued more
    -- than 1000 tickets per ms on average), so a token signed before the loss can never name a
    -- ticket issued after it; tickets at or below `base` read as lost.
    local base = ticketString(now * 1000)
    redis.call('HSET', k.meta, 'seq', base, 'base', base, 'seenBase', ticketString(now * 1000 + 1))
    meta = readMeta(k)
    started = 1
  end

  local ticket = ticketString(redis.call('HINCRBY', k.meta, 'seq', 1))
  redis.call('ZADD', k.waiting, ticket, user)
  setSeenAt(k, meta, ticket, now, true)
  noteNewSeen(k, meta, ticket, now)
  return reply(ticket, 1, waitingView(k, user, now, sampleWindowMs, d[1], d[2], d[3]))
end

local k = lineKeys(1)
local now = tonumber(ARGV[1])
local idleTimeoutMs = tonumber(ARGV[2])
local sampleWindowMs = tonumber(ARGV[3])
local d = {ARGV[4], ARGV[5], ARGV[6]}
local out = {}
for i = 7, #ARGV do
  out[#out + 1] = joinOne(k, ARGV[i], now, idleTimeoutMs, sampleWindowMs, d)
end
return out
