--- @include "seen"

-- A WAITING user leaves the line (left, idle, or admitted: the caller adds it to `active`).
local function removeWaiting(k, meta, user, ticket)
  redis.call('ZREM', k.waiting, user)
  setSeen(k, meta, ticket, 0)
end

-- An ACTIVE ticket gives back its slot. `ticket` must be the member string.
local function removeActive(k, ticket)
  redis.call('ZREM', k.active, ticket)
  local owner = redis.call('HGET', k.owners, ticket)
  if owner then
    redis.call('HDEL', k.owners, ticket)
    if redis.call('HGET', k.users, owner) == ticket then
      redis.call('HDEL', k.users, owner)
    end
  end
end

-- Removes a ticket in whichever state it is (state and user as findTicket found them).
local function removeTicket(k, meta, ticket, state, user)
  if state == 'ACTIVE' then
    removeActive(k, ticket)
  elseif state == 'WAITING' then
    removeWaiting(k, meta, user, ticket)
  end
end
