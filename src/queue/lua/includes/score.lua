-- An exclusive score bound. %.17g round-trips any double, where Lua's own number-to-string
-- conversion keeps only 14 digits.
local function above(score)
  return '(' .. string.format('%.17g', score)
end
