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

local function setSeen(k, meta, ticket, ms)
  local slot = tonumber(ticket) - meta.seenBase
  if slot >= 0 then
    redis.call('SETRANGE', k.seen, slot * SEEN_BYTES, struct.pack('>I2I4', math.floor(ms / TWO_32), ms % TWO_32))
  end
end

-- A new WAITING ticket: its block's lower bound comes down to `ms` if above (or is created).
local function noteNewSeen(k, meta, ticket, ms)
  local slot = tonumber(ticket) - meta.seenBase
  redis.call('ZADD', k.seenBlocks, 'LT', ms, math.floor(slot / SEEN_BLOCK))
end
