--[[
  The keys of one concert's line, named. Every script that takes the line's keys receives
  them in this order (a script may take only a prefix of it, see each script's header):
    waiting   ZSET ticket -> ticket          WAITING tickets; ZRANK is the position
    seen      ZSET ticket -> last seen ms    WAITING tickets by last sign of life
    active    ZSET ticket -> activeUntil ms  ACTIVE tickets
    users     HASH userId -> ticket          the user's latest ticket
    owners    HASH ticket -> userId          so removing a ticket can clear `users`
    admitted  ZSET ticket -> admission ms    admission log, trimmed to the sample window
    settings  HASH maxActive | admitPerSecond | paused ("0"/"1"); unset fields = defaults
]]
local function lineKeys(first)
  return {
    waiting = KEYS[first],
    seen = KEYS[first + 1],
    active = KEYS[first + 2],
    users = KEYS[first + 3],
    owners = KEYS[first + 4],
    admitted = KEYS[first + 5],
    settings = KEYS[first + 6],
  }
end
