--[[
  How many tickets wait and how many are ACTIVE at `now` (a lapsed one no longer counts,
  swept or not). Read-only.

  Input:
    KEYS[1]  waiting  ZSET
    KEYS[2]  active   ZSET

    ARGV[1]  now (ms since epoch, the caller's clock)

  Output:
    {waiting, active}
]]
--- @include "score"

return {
  redis.call('ZCARD', KEYS[1]),
  redis.call('ZCOUNT', KEYS[2], above(tonumber(ARGV[1])), '+inf'),
}
