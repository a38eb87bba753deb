-- POST /persons with a name nobody has (NONCE-tTHREAD-COUNTER). Expects 201.
-- wrk -s post.lua URL -- NONCE [ROWS]; see common.lua.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

common.workload({ [201] = true }, common.post_person)
