-- GET /persons/{id} for a random existing id (1..ROWS). Expects 200.
-- wrk -s get_by_id.lua URL -- NONCE [ROWS]; see common.lua.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

common.workload({ [200] = true }, function()
   return common.get("/persons/" .. math.random(1, common.rows()))
end)
