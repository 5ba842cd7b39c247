--[[
  The keys of one concert's line, named. Every script that takes the line's keys receives
  them in this order:
    meta      HASH seq (last ticket issued) | base (tickets up to base belong to an earlier life
                   of the line: its data was lost) | seenBase (slot 0 of `seen`)
    waiting   ZSET user -> ticket            WAITING users; ZRANK is the position
    seen      STRING 6 bytes per slot        last sign of life (ms) of each WAITING ticket,
                                             slot = ticket - seenBase; 0 = not waiting
    active    ZSET ticket -> activeUntil ms  ACTIVE tickets
    users     HASH user -> ticket            ACTIVE tickets only
    owners    HASH ticket -> user            ACTIVE tickets only
    admitted  ZSET ticket -> admission ms    admission log, trimmed to the sample window
    settings  HASH maxActive | admitPerSecond | paused ("0"/"1"); the line admits nobody until
                   all three are stored
    seenBlocks ZSET block -> ms              per block of 64 slots, a lower bound of its
                                             waiters' last signs of life: what the idle sweep
                                             looks into (see includes/sweep-idle.lua)
    bits      STRING 1 bit per slot            1 = the slot's ticket is WAITING (SETBIT offset =
                                             slot, as `seen`): the line's picture that
                                             instances copy to compute positions in process
                                             (see picture-10.lua); meta.cut counts the
                                             changes a copy cannot infer from head and seq

  One sorted-set entry per waiter plus six bytes (and a 64th of a block entry): a waiting user
  costs ~135 bytes of Redis at a million (the member is the user id, 16 bytes for a UUID, so no
  hash maps users to tickets).
]]
local function lineKeys(first)
  return {
    meta = KEYS[first],
    waiting = KEYS[first + 1],
    seen = KEYS[first + 2],
    active = KEYS[first + 3],
    users = KEYS[first + 4],
    owners = KEYS[first + 5],
    admitted = KEYS[first + 6],
    settings = KEYS[first + 7],
    seenBlocks = KEYS[first + 8],
    bits = KEYS[first + 9],
  }
end

-- Ticket numbers reach ~2^51 (clock ms × 1000) and Lua's tostring keeps only 14 digits, so
-- every ticket that becomes a member or an argument is formatted whole.
local function ticketString(n)
  return string.format('%.0f', tonumber(n))
end

-- The line's counters, or nil when the line has none: never joined, or its data was lost.
local function readMeta(k)
  local m = redis.call('HMGET', k.meta, 'seq', 'base', 'seenBase')
  if not m[1] then
    return nil
  end
  return { seq = tonumber(m[1]), base = tonumber(m[2]), seenBase = tonumber(m[3]) }
end
