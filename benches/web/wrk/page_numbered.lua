-- GET /persons?page=P&per_page=50 for a random page of the seeded rows
-- (1..ROWS/50, so never past the end). Expects 200.
-- wrk -s page_numbered.lua URL -- NONCE [ROWS]; see common.lua.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

local per_page = 50

common.workload({ [200] = true }, function()
   local page = math.random(1, math.floor(common.rows() / per_page))
   return common.get("/persons?page=" .. page .. "&per_page=" .. per_page)
end)
