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

  Output:
    0
]]
--- @include "keys"
--- @include "remove-ticket"

removeTicket(lineKeys(1), ARGV[1])
return 0
