-- The line's stored settings, or nil unless all three are stored: a line whose settings were
-- never restored (or were lost with Redis's data) must not run on anyone's defaults.
local function storedSettings(settingsKey)
  local stored = redis.call('HMGET', settingsKey, 'maxActive', 'admitPerSecond', 'paused')
  if not (stored[1] and stored[2] and stored[3]) then
    return nil
  end
  return tonumber(stored[1]), tonumber(stored[2]), tonumber(stored[3])
end

-- What the line's settings read as: what is stored, else this instance's defaults (display only).
local function readSettings(settingsKey, defaultMaxActive, defaultAdmitPerSecond, defaultPaused)
  local stored = redis.call('HMGET', settingsKey, 'maxActive', 'admitPerSecond', 'paused')
  return tonumber(stored[1] or defaultMaxActive),
    tonumber(stored[2] or defaultAdmitPerSecond),
    tonumber(stored[3] or defaultPaused)
end
