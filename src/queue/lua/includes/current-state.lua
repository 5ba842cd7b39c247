--- @include "remove-ticket"

--[[
  Where a ticket is, without judging time: 'ACTIVE' and its activeUntil, 'WAITING' and its
  user, or nil. `owner` ('' for no check) must be the ticket's user, else nil: a ticket found in
  another user's name is left alone.
]]
local function findTicket(k, ticket, owner)
  local activeUntil = redis.call('ZSCORE', k.active, ticket)
  if activeUntil then
    if owner ~= '' and redis.call('HGET', k.owners, ticket) ~= owner then
      return nil
    end
    return 'ACTIVE', tonumber(activeUntil)
  end
  if owner ~= '' then
    local score = redis.call('ZSCORE', k.waiting, owner)
    if score and tonumber(score) == tonumber(ticket) then
      return 'WAITING', owner
    end
    return nil
  end
  -- Tickets are unique scores, so the range of one score is the ticket's user: O(log n).
  local user = redis.call('ZRANGEBYSCORE', k.waiting, ticket, ticket, 'LIMIT', 0, 1)[1]
  if user then
    return 'WAITING', user
  end
  return nil
end

--[[
  The ticket's state at `now`: 'ACTIVE' and its activeUntil, 'WAITING' and its user, or nil and
  whether the ticket was lost (issued before the line lost its data: `meta` is nil, or the
  ticket is at or below meta.base). A lapsed ACTIVE or idle WAITING ticket is removed right
  here, so a status read is right whether or not an admission step has swept the line lately.
]]
local function currentState(k, meta, ticket, owner, now, idleTimeoutMs)
  if not meta or tonumber(ticket) <= meta.base then
    return nil, true
  end
  local state, found = findTicket(k, ticket, owner)
  if state == 'ACTIVE' then
    if found > now then
      return 'ACTIVE', found
    end
    removeActive(k, ticket)
  elseif state == 'WAITING' then
    if seenAt(k, meta, ticket) > now - idleTimeoutMs then
      return 'WAITING', found
    end
    removeWaiting(k, meta, found, ticket)
  end
  return nil, false
end
