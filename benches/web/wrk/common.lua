-- What the five workload scripts share: request helpers, per-status
-- counting, and the machine-readable result line.
--
-- wrk runs one Lua state per thread (request/response/init run there) and
-- one main state (setup/done run there), so nothing a thread counts is
-- visible to `done` unless it is fetched: `setup` keeps every thread
-- object and `done` reads each thread's counters with thread:get.
--
-- Arguments, after the URL and `--`:
--   wrk -s get_by_id.lua URL -- NONCE ROWS
--   NONCE  letters/digits unique to this run and cell; it starts every name
--          a POST sends, so names never collide across threads, cells or runs
--   ROWS   ids 1..ROWS exist (the seeded table), default 100000
--
-- At the end `done` prints one line, `wrk-result {JSON}`, with:
--   requests, duration_us, rps, latency_us {p50, p90, p99, max, mean},
--   statuses {"200": n, ...}, created (201s), unexpected (responses whose
--   status the workload does not expect), socket_errors {connect, read,
--   write, timeout}, inflight_posts: names POSTed whose response wrk never
--   read because the run stopped first (wrk abandons in-flight requests at
--   the deadline; the server may still have committed them, and the row
--   count check needs to know which ones could have been).

local common = {}

local threads = {}          -- main state: every thread, for `done`

-- Thread-state counters (globals, so that thread:get can read them).
statuses = {}               -- [status] = responses
created = 0                 -- 201s
unexpected = 0              -- statuses the workload does not expect
pending = {}                -- [name] = true for each POST not yet answered 201

local nonce, rows, thread_index
local posts_sent = 0

function common.rows() return rows end

function common.get(path)
   return wrk.format("GET", path)
end

-- A POST /persons with a name no other thread, cell or run uses.
function common.post_person()
   posts_sent = posts_sent + 1
   local name = string.format("%s-t%d-%d", nonce, thread_index, posts_sent)
   pending[name] = true
   return wrk.format("POST", "/persons", { ["Content-Type"] = "application/json" },
                     '{"name":"' .. name .. '"}')
end

-- Defines wrk's hooks for one workload.
--   expected: set of statuses that are not errors, e.g. { [200] = true }
--   request:  function returning the next request (built with the helpers above)
function common.workload(expected, next_request)
   function setup(thread)
      threads[#threads + 1] = thread
      thread:set("thread_index", #threads)
   end

   function init(args)
      nonce = args[1]
      rows = tonumber(args[2] or "100000")
      assert(nonce and nonce:match("^[%w]+$"), "usage: wrk -s SCRIPT URL -- NONCE [ROWS] (NONCE: letters and digits)")
      assert(rows and rows >= 100, "ROWS must be a number >= 100")
      thread_index = _G.thread_index
      -- Each thread its own sequence, different in every cell.
      local seed = thread_index * 7919
      for i = 1, #nonce do seed = (seed * 31 + nonce:byte(i)) % 2147483647 end
      math.randomseed(seed)
      for _ = 1, 10 do math.random() end
   end

   request = next_request

   function response(status, headers, body)
      statuses[status] = (statuses[status] or 0) + 1
      if not expected[status] then
         unexpected = unexpected + 1
      end
      if status == 201 then
         created = created + 1
         local name = body:match('"name"%s*:%s*"([^"]*)"')
         if name then pending[name] = nil end
      end
   end

   function done(summary, latency, requests)
      local all_statuses, total_created, total_unexpected, inflight = {}, 0, 0, {}
      for _, thread in ipairs(threads) do
         for status, n in pairs(thread:get("statuses")) do
            all_statuses[status] = (all_statuses[status] or 0) + n
         end
         total_created = total_created + thread:get("created")
         total_unexpected = total_unexpected + thread:get("unexpected")
         for name in pairs(thread:get("pending")) do
            inflight[#inflight + 1] = string.format("%q", name)
         end
      end
      local status_fields = {}
      for status, n in pairs(all_statuses) do
         status_fields[#status_fields + 1] = string.format('"%d":%d', status, n)
      end
      table.sort(status_fields)
      local e = summary.errors
      io.write(string.format(
         'wrk-result {"requests":%d,"duration_us":%d,"rps":%.2f,'
            .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},'
            .. '"statuses":{%s},"created":%d,"unexpected":%d,'
            .. '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},'
            .. '"inflight_posts":[%s]}\n',
         summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
         latency:percentile(50), latency:percentile(90), latency:percentile(99),
         latency.max, latency.mean,
         table.concat(status_fields, ","), total_created, total_unexpected,
         e.connect, e.read, e.write, e.timeout,
         table.concat(inflight, ",")))
   end
end

return common
