--[[
  The ticket leaves the line or gives back its active slot; it is EXPIRED from now on.
  Leaving an unknown or already removed ticket does nothing.

  Input:
    KEYS[1]  waiting  ZSET
    KEYS[2]  seen     ZSET
    KEYS[3]  active   ZSET
    KEYS[4]  users    HASH
    KEYS[5]  owners   HASH

    ARGV[1]  ticket
    ARGV[2]  owner: the ticket's user, or '' not to check (another user's ticket is left alone)

  Output:
    0
]]
--- @include "keys"
--- @include "remove-ticket"

local k = lineKeys(1)
if ARGV[2] ~= '' and redis.call('HGET', k.owners, ARGV[1]) ~= ARGV[2] then
  return 0
end
removeTicket(k, ARGV[1])
return 0
