-- GET /persons?after=ID&limit=50 after a random id (0..ROWS-50, so every
-- page is full). Expects 200.
-- wrk -s page_keyset.lua URL -- NONCE [ROWS]; see common.lua.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

local limit = 50

common.workload({ [200] = true }, function()
   local after = math.random(0, common.rows() - limit)
   return common.get("/persons?after=" .. after .. "&limit=" .. limit)
end)
