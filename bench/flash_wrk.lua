-- The buyers of `bench/flash.py --driver wrk`: wrk's C clients instead of Python's, so the
-- load generator takes little of the two cores the server runs on.
--
--   wrk -t T -c C -d S -s bench/flash_wrk.lua <base> -- <buyers file> T <path> <sku id> F
--
-- The buyers file has one buyer per line, "<token> <address id>". Thread i of T buys as
-- the buyers on lines i, i + T, i + 2T ..., each once. Once a thread has been told
-- out_of_stock, or has no buyer left, it holds its connections (`delay` keeps them from
-- sending again) and stops when every buy it sent has been answered, so that no grant
-- goes unanswered: wrk's script does not see which connection an answer came on, so
-- it cannot wait for each connection's own. It prints "stopped" so that the caller can
-- end the run. With F > 0 seconds it goes on buying for F seconds after its first
-- out_of_stock instead (the flood of buyers after a sale sold out, who ask again: its
-- buyers are taken round again). `done` prints one line "result <json>" with what every thread saw;
-- times are CLOCK_MONOTONIC seconds, the clock of Python's time.monotonic().

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } qz_timespec;
int clock_gettime(int clock, qz_timespec *ts);
]])
local timespec = ffi.new("qz_timespec")

local function now()
  ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path, count = args[1], tonumber(args[2])
  buy_path, sku_id = args[3], args[4]
  buyers, next_buyer = {}, 1
  local line_no = 0
  for line in io.lines(path) do
    if line_no % count == index then
      local token, address = line:match("^(%S+) (%S+)$")
      table.insert(buyers, { token = token, address = address })
    end
    line_no = line_no + 1
  end
  flood = tonumber(args[5] or "0")
  first_sent, last_accepted, first_sold_out, last_sold_out = 0, 0, 0, 0
  accepted, sold_out, stopped = 0, 0, false
  sent, answered, holding = 0, 0, false
  -- wrk calls thread 0's request() once itself, to check what it returns, before the
  -- thread's connections start; that request is never sent
  checked = index ~= 0
  others = {}
end

function delay()
  return holding and 3600000 or 0 -- a held connection sends nothing more
end

function request()
  -- With no buyer left the thread holds; a request still written reuses one.
  local buyer = buyers[next_buyer] or buyers[1]
  if not checked then
    checked = true
  else
    next_buyer = next_buyer + 1
    if flood > 0 and next_buyer > #buyers then
      next_buyer = 1
    end
    if first_sent == 0 then
      first_sent = now()
    end
    sent = sent + 1
  end
  return wrk.format("POST", buy_path, {
    ["Authorization"] = "Bearer " .. buyer.token,
    ["Content-Type"] = "application/json",
  }, '{"sku_id": ' .. sku_id .. ', "qty": 1, "address_id": ' .. buyer.address .. "}")
end

local function stop()
  if not stopped then
    stopped = true
    io.write("stopped\n")
    io.flush()
    wrk.thread:stop()
  end
end

function response(status, headers, body)
  answered = answered + 1
  if status == 201 or status == 202 then
    accepted = accepted + 1
    last_accepted = now()
  elseif status == 409 and body:find('"out_of_stock"', 1, true) then
    sold_out = sold_out + 1
    last_sold_out = now()
    if first_sold_out == 0 then
      first_sold_out = last_sold_out
    end
  else
    local code = tostring(status) .. ":" .. (body:match('"code"%s*:%s*"([^"]*)"') or "")
    others[code] = (others[code] or 0) + 1
  end
  if flood > 0 then
    if first_sold_out > 0 and last_sold_out - first_sold_out >= flood then
      stop()
    end
  else
    holding = holding or first_sold_out > 0 or next_buyer > #buyers
    if holding and answered >= sent then
      stop()
    end
  end
end

function done(summary, latency, requests)
  local out = {}
  for i, thread in ipairs(threads) do
    local parts = {}
    for code, n in pairs(thread:get("others")) do
      table.insert(parts, string.format('"%s": %d', code, n))
    end
    out[i] = string.format(
      '{"first_sent": %.6f, "last_accepted": %.6f, "first_sold_out": %.6f, '
        .. '"last_sold_out": %.6f, '
        .. '"accepted": %d, "sold_out": %d, "others": {%s}}',
      thread:get("first_sent"),
      thread:get("last_accepted"),
      thread:get("first_sold_out"),
      thread:get("last_sold_out"),
      thread:get("accepted"),
      thread:get("sold_out"),
      table.concat(parts, ", ")
    )
  end
  local e = summary.errors
  io.write(
    string.format(
      'result {"threads": [%s], "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, '
        .. '"requests": %d, "socket_errors": %d}\n',
      table.concat(out, ", "),
      latency:percentile(50) / 1000,
      latency:percentile(99) / 1000,
      latency.max / 1000,
      summary.requests,
      e.connect + e.read + e.write + e.timeout
    )
  )
end
