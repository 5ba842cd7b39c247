--- @include "remove-ticket"

--[[
  Drops WAITING tickets not seen since `cutoff`, looking only into blocks whose lower bound is
  at or below it (at most `maxBlocks` of them, oldest first): O(log n) when nobody is idle,
  where walking the line would read every waiter. A touch only raises a last-seen time, so the
  bound stays a bound without being written; a block looked into gets its true minimum back,
  or leaves `seenBlocks` once it holds no waiter.
]]
local function sweepIdle(k, meta, cutoff, maxBlocks)
  local blocks = redis.call('ZRANGEBYSCORE', k.seenBlocks, '-inf', cutoff, 'LIMIT', 0, maxBlocks)
  for i = 1, #blocks do
    local block = tonumber(blocks[i])
    local first = block * SEEN_BLOCK
    local bytes = redis.call('GETRANGE', k.seen, first * SEEN_BYTES, (first + SEEN_BLOCK) * SEEN_BYTES - 1)
    local lowest = nil
    for j = 0, math.floor(#bytes / SEEN_BYTES) - 1 do
      local high, low = struct.unpack('>I2I4', bytes, j * SEEN_BYTES + 1)
      local seen = high * TWO_32 + low
      if seen > 0 then
        if seen <= cutoff then
          local ticket = ticketString(meta.seenBase + first + j)
          local user = redis.call('ZRANGEBYSCORE', k.waiting, ticket, ticket, 'LIMIT', 0, 1)[1]
          if user then
            removeWaiting(k, meta, user, ticket)
          else
            setSeen(k, meta, ticket, 0)
          end
        elseif lowest == nil or seen < lowest then
          lowest = seen
        end
      end
    end
    if lowest then
      redis.call('ZADD', k.seenBlocks, lowest, block)
    else
      redis.call('ZREM', k.seenBlocks, block)
    end
  end
end
