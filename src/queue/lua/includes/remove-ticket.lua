-- Removes a ticket in whichever state it is. `ticket` must be the member string, never a Lua
-- number, so that it compares equal to what `users` holds.
local function removeTicket(k, ticket)
  redis.call('ZREM', k.waiting, ticket)
  redis.call('ZREM', k.seen, ticket)
  redis.call('ZREM', k.active, ticket)
  local owner = redis.call('HGET', k.owners, ticket)
  if owner then
    redis.call('HDEL', k.owners, ticket)
    -- The user may already hold a newer ticket; only a pointer to this one is stale.
    if redis.call('HGET', k.users, owner) == ticket then
      redis.call('HDEL', k.users, owner)
    end
  end
end
