--[[
  Puts a line on the registry of live lines, or marks it joined again: its score becomes now,
  or one more than the score it had if that is not below now (an instance whose clock is a few
  ms behind the last one to register). The score always changes, so an admission ticker that
  last saw the line empty always notices, and a compare-and-delete (unregister-1.lua) that
  raced with this never takes the line off.

  Input:
    KEYS[1]  registry  ZSET concertId -> time of the latest join (ms)

    ARGV[1]  concertId
    ARGV[2]  now (ms)

  Output:
    the new score
]]
local score = tonumber(ARGV[2])
local before = redis.call('ZSCORE', KEYS[1], ARGV[1])
if before and tonumber(before) >= score then
  score = tonumber(before) + 1
end
redis.call('ZADD', KEYS[1], score, ARGV[1])
return score
