-- 90% GET /persons/{id} of a random seeded id, 10% POST /persons of a new
-- name, drawn per request. Expects 200 or 201.
-- wrk -s mixed.lua URL -- NONCE [ROWS]; see common.lua.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

common.workload({ [200] = true, [201] = true }, function()
   if math.random() < 0.1 then
      return common.post_person()
   end
   return common.get("/persons/" .. math.random(1, common.rows()))
end)
