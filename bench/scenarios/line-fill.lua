--[[
  Bench only: appends `count` waiters to a line in one step, laid out exactly as join-10.lua
  lays them out (src/queue/lua/includes/keys.lua): a `waiting` entry per waiter (a 16-byte
  member, the ticket as score), 6 bytes of `seen` each, their blocks in `seenBlocks`, their bits in `bits`, and the
  counter moved on. Filling a
  million-person line through HTTP would take minutes; this takes seconds. The line must
  exist (someone joined it) and be paused.

  Input:
    KEYS[1]  meta     HASH
    KEYS[2]  waiting  ZSET
    KEYS[3]  seen     STRING
    KEYS[4]  seenBlocks ZSET
    KEYS[5]  bits     STRING  the line's picture: one bit per ticket, 1 = WAITING

    ARGV[1]  count
    ARGV[2]  last-seen ms to give every filler (ahead of the clock, so none goes idle while
             the bench measures)

  Output:
    the last ticket issued
]]
local TWO_32 = 4294967296
local meta = redis.call('HMGET', KEYS[1], 'seq', 'seenBase')
local seq, seenBase = tonumber(meta[1]), tonumber(meta[2])
local count = tonumber(ARGV[1])
local ms = tonumber(ARGV[2])

local args = {}
for i = 1, count do
  local ticket = seq + i
  args[#args + 1] = string.format('%.0f', ticket)
  -- 'fill' then the ticket: unique, and never a UUID's bytes (no version nibble 4).
  args[#args + 1] = struct.pack('>I4I4I4I4', 0x66696c6c, math.floor(ticket / TWO_32), ticket % TWO_32, 0)
  if #args >= 2000 then
    redis.call('ZADD', KEYS[2], unpack(args))
    args = {}
  end
end
if #args > 0 then
  redis.call('ZADD', KEYS[2], unpack(args))
end
local seen = struct.pack('>I2I4', math.floor(ms / TWO_32), ms % TWO_32)
redis.call('SETRANGE', KEYS[3], (seq + 1 - seenBase) * 6, string.rep(seen, count))
for block = math.floor((seq + 1 - seenBase) / 64), math.floor((seq + count - seenBase) / 64) do
  redis.call('ZADD', KEYS[4], 'LT', ms, block)
end
-- The picture's bits, as join's setSeenAt writes them (tail: no cut): edges bit by bit, the
-- whole bytes between in one SETRANGE.
local first, last = seq + 1 - seenBase, seq + count - seenBase
local slot = first
while slot <= last and slot % 8 ~= 0 do
  redis.call('SETBIT', KEYS[5], slot, 1)
  slot = slot + 1
end
local whole = math.floor((last + 1 - slot) / 8)
if whole > 0 then
  redis.call('SETRANGE', KEYS[5], slot / 8, string.rep('\255', whole))
  slot = slot + whole * 8
end
while slot <= last do
  redis.call('SETBIT', KEYS[5], slot, 1)
  slot = slot + 1
end
redis.call('HSET', KEYS[1], 'seq', string.format('%.0f', seq + count))
return seq + count
