--[[
  The ticket leaves the line or gives back its active slot; it is EXPIRED from now on.
  Leaving an unknown or already removed ticket does nothing.

  Input:
    KEYS[1..10]  the line's keys (see includes/keys.lua)

    ARGV[1]  ticket
    ARGV[2]  owner: the ticket's user (member), or '' not to check (another user's ticket is left alone)

  Output:
    0
]]
--- @include "keys"
--- @include "current-state"

local k = lineKeys(1)
local ticket = ticketString(ARGV[1])
local meta = readMeta(k)
if not meta then
  return 0
end
local state, found = findTicket(k, ticket, ARGV[2])
removeTicket(k, meta, ticket, state, found)
return 0
