--[[
  How many wait in the pre-queue (0 once it is closed). Read-only.

  Input:
    KEYS[1]  pre         HASH
    KEYS[2]  pre-owners  HASH

  Output:
    count
]]
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'closed' or state == 'open' then
  return 0
end
return redis.call('HLEN', KEYS[2])
