--[[
  The line's picture, for an instance to compute the positions of its waiters in process
  (src/queue/line-picture.ts): the counters, the head (lowest WAITING ticket), the bytes of
  `bits` the caller's copy lacks, and what a WAITING view shows beside the position (the
  admission sample and the settings). One call per line per refresh, whatever the number of
  waiters; read-only.

  A copy made at the same seenBase and cut as now is brought up to date by the bytes from its
  last seen ticket on (joins only append; departures from the front only move the head);
  otherwise the bytes from the head on come back.

  Input:
    KEYS[1..10]  the line's keys (see includes/keys.lua)

    ARGV[1]  now (ms since epoch, the caller's clock)
    ARGV[2]  sampleWindowMs
    ARGV[3]  default maxActive
    ARGV[4]  default admitPerSecond
    ARGV[5]  default paused (0/1)
    ARGV[6]  the copy's seenBase, or '' for no copy
    ARGV[7]  the copy's cut
    ARGV[8]  the copy's seq

  Output:
    {} when the line has no counters (never joined, or its data was lost), else
    {seq, base, seenBase, cut, head, fromByte, bytes, admissionsCount, oldestAdmission (or ''),
     maxActive, admitPerSecond, paused}
    bytes: `bits` from byte fromByte through the byte of seq (bit i of the string = slot i).
]]
--- @include "keys"
--- @include "settings"
--- @include "score"

local k = lineKeys(1)
local now = tonumber(ARGV[1])
local m = redis.call('HMGET', k.meta, 'seq', 'base', 'seenBase', 'cut')
if not m[1] then
  return {}
end
local seq, seenBase, cut = tonumber(m[1]), tonumber(m[3]), tonumber(m[4] or '0')
local first = redis.call('ZRANGE', k.waiting, 0, 0, 'WITHSCORES')[2]
local head = first and tonumber(first) or seq + 1
local fromSlot = head - seenBase
if ARGV[6] ~= '' and tonumber(ARGV[6]) == seenBase and tonumber(ARGV[7]) == cut then
  fromSlot = math.max(fromSlot, tonumber(ARGV[8]) + 1 - seenBase)
end
local lastSlot = seq - seenBase
local fromByte = math.floor(math.max(fromSlot, 0) / 8)
local bytes = ''
if lastSlot >= 0 and fromByte <= math.floor(lastSlot / 8) then
  bytes = redis.call('GETRANGE', k.bits, fromByte, math.floor(lastSlot / 8))
end
local sampleFrom = above(now - tonumber(ARGV[2]))
local count = redis.call('ZCOUNT', k.admitted, sampleFrom, '+inf')
local oldest = ''
if count > 0 then
  oldest = redis.call('ZRANGEBYSCORE', k.admitted, sampleFrom, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)[2]
end
local maxActive, admitPerSecond, paused = readSettings(k.settings, ARGV[3], ARGV[4], ARGV[5])
return {m[1], m[2], m[3], cut, ticketString(head), fromByte, bytes, count, oldest, maxActive,
  admitPerSecond, paused}
