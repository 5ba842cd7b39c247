--- @include "remove-ticket"

--[[
  The ticket's state at `now`: 'ACTIVE' and its activeUntil, 'WAITING', or nil (EXPIRED).
  A lapsed ACTIVE or idle WAITING ticket is removed right here, so a status read is right
  whether or not an admission step has swept the line lately.
]]
local function currentState(k, ticket, now, idleTimeoutMs)
  local activeUntil = redis.call('ZSCORE', k.active, ticket)
  if activeUntil then
    activeUntil = tonumber(activeUntil)
    if activeUntil > now then
      return 'ACTIVE', activeUntil
    end
    removeTicket(k, ticket)
    return nil
  end
  local seen = redis.call('ZSCORE', k.seen, ticket)
  if seen then
    if tonumber(seen) > now - idleTimeoutMs then
      return 'WAITING'
    end
    removeTicket(k, ticket)
  end
  return nil
end
