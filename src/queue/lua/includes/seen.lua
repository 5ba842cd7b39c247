-- A WAITING ticket's last sign of life, 6 bytes per ticket (big-endian ms) in one string (a
-- second sorted set would double a waiter's cost). Slots start at meta.seenBase, which moves up
-- whenever the line is empty, so the string spans the current line, not every ticket ever
-- issued. GETRANGE/SETRANGE: about twice as fast as BITFIELD here.
local SEEN_BYTES = 6
local TWO_32 = 4294967296
-- Slots per entry of `seenBlocks`.
local SEEN_BLOCK = 64

local function seenAt(k, meta, ticket)
  local slot = tonumber(ticket) - meta.seenBase
  if slot < 0 then
    return 0
  end
  local bytes = redis.call('GETRANGE', k.seen, slot * SEEN_BYTES, slot * SEEN_BYTES + SEEN_BYTES - 1)
  if #bytes < SEEN_BYTES then
    return 0
  end
  local high, low = struct.unpack('>I2I4', bytes)
  return high * TWO_32 + low
end

--[[
  Writes the last sign of life (0: the ticket no longer waits) and keeps the picture's bit in
  step (`bits`, see keys.lua). An instance's copy of the picture is refreshed by head (lowest
  waiting ticket) and by the bytes past the last ticket it saw, so only the changes those miss
  bump meta.cut and make copies fetch it whole: a waiter leaving from behind someone (a leave,
  an idle drop in the middle), or a waiter placed anywhere but at the tail (`tail`: a join's
  brand-new ticket; the pre-queue's draw fills reserved tickets, so it is not). Departures from
  the front (admissions, the head leaving) only move the head: O(log n) per departure.
]]
local function setSeenAt(k, meta, ticket, ms, tail)
  local slot = tonumber(ticket) - meta.seenBase
  if slot >= 0 then
    redis.call('SETRANGE', k.seen, slot * SEEN_BYTES, struct.pack('>I2I4', math.floor(ms / TWO_32), ms % TWO_32))
    if ms > 0 then
      if redis.call('SETBIT', k.bits, slot, 1) == 0 and not tail then
        redis.call('HINCRBY', k.meta, 'cut', 1)
      end
    elseif redis.call('SETBIT', k.bits, slot, 0) == 1 then
      -- Callers take the ticket out of `waiting` first: someone still ahead of it means a hole.
      local first = redis.call('ZRANGE', k.waiting, 0, 0, 'WITHSCORES')[2]
      if first and tonumber(first) < tonumber(ticket) then
        redis.call('HINCRBY', k.meta, 'cut', 1)
      end
    end
  end
end

local function setSeen(k, meta, ticket, ms)
  setSeenAt(k, meta, ticket, ms, false)
end

-- A new WAITING ticket: its block's lower bound comes down to `ms` if above (or is created).
local function noteNewSeen(k, meta, ticket, ms)
  local slot = tonumber(ticket) - meta.seenBase
  redis.call('ZADD', k.seenBlocks, 'LT', ms, math.floor(slot / SEEN_BLOCK))
end
