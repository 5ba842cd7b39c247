-- The line's settings: what an operator has set, else this instance's defaults.
local function readSettings(settingsKey, defaultMaxActive, defaultAdmitPerSecond, defaultPaused)
  local stored = redis.call('HMGET', settingsKey, 'maxActive', 'admitPerSecond', 'paused')
  return tonumber(stored[1] or defaultMaxActive),
    tonumber(stored[2] or defaultAdmitPerSecond),
    tonumber(stored[3] or defaultPaused)
end
