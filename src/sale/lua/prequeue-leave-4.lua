--[[
  A pre-queued ticket leaves. Once the pre-queue is closed its list is frozen (every instance
  must draw from the same list), so a leave then goes to the line instead.

  Input:
    KEYS[1]  pre         HASH
    KEYS[2]  pre-users   HASH
    KEYS[3]  pre-owners  HASH
    KEYS[4]  pre-seen    ZSET

    ARGV[1]  ticket
    ARGV[2]  owner: the ticket's user, or '' not to check

  Output:
    1 left (or was not there), -1 the pre-queue is closed (leave the line)
]]
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'closed' or state == 'open' then
  return -1
end
local ticket = ARGV[1]
local owner = redis.call('HGET', KEYS[3], ticket)
if owner and (ARGV[2] == '' or owner == ARGV[2]) then
  redis.call('HDEL', KEYS[3], ticket)
  redis.call('ZREM', KEYS[4], ticket)
  if redis.call('HGET', KEYS[2], owner) == ticket then
    redis.call('HDEL', KEYS[2], owner)
  end
end
return 1
