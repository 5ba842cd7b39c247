--[[
  Sets the given settings fields of a line; fields not given keep their value (or stay unset).
  With `restore`, only fields not stored yet are written: settings brought back from their
  source after a loss never overwrite what an operator set meanwhile.

  Input:
    KEYS[1]  settings  HASH

    ARGV[1]  default maxActive
    ARGV[2]  default admitPerSecond
    ARGV[3]  default paused (0/1)
    ARGV[4]  mode: 'patch' or 'restore'
    ARGV[5…] field, value, field, value, … (fields: maxActive, admitPerSecond, paused)

  Output:
    {maxActive, admitPerSecond, paused (0/1)}  after the update (unset fields read as defaults)
]]
--- @include "settings"

if ARGV[4] == 'restore' then
  for i = 5, #ARGV, 2 do
    redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
  end
elseif #ARGV > 4 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 5))
end
return {readSettings(KEYS[1], ARGV[1], ARGV[2], ARGV[3])}
