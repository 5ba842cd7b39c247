--[[
  Takes a line off the registry of live lines, unless it was joined again since the caller
  looked: a join re-registers its line with its own `now` after its ticket is taken, so a
  line is never left unregistered with someone in it.

  Input:
    KEYS[1]  registry  ZSET concertId -> time of the latest join (ms)

    ARGV[1]  concertId
    ARGV[2]  the latest join the caller saw

  Output:
    1 when removed, else 0
]]
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
