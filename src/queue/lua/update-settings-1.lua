--[[
  Sets the given settings fields of a line; fields not given keep their value (or default).

  Input:
    KEYS[1]  settings  HASH

    ARGV[1]  default maxActive
    ARGV[2]  default admitPerSecond
    ARGV[3]  default paused (0/1)
    ARGV[4…] field, value, field, value, … (fields: maxActive, admitPerSecond, paused)

  Output:
    {maxActive, admitPerSecond, paused (0/1)}  after the update
]]
--- @include "settings"

if #ARGV > 3 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 4))
end
return {readSettings(KEYS[1], ARGV[1], ARGV[2], ARGV[3])}
