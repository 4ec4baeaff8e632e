-- wrk script: each request GETs a random line of the paths file given after `--`
-- (`wrk ... -s paths.lua URL -- FILE`), and `done` prints one machine-readable line:
--   BENCH_RESULT {"rps":…,"p50_ms":…,…}
-- Requests are formatted once, in init, so that the Lua cost per request is one table lookup.

local requests = {}

function init(args)
  local file = args[1]
  if file == nil then
    error("usage: wrk ... -s paths.lua URL -- PATHS_FILE")
  end
  for line in io.lines(file) do
    if line ~= "" then
      requests[#requests + 1] = wrk.format("GET", line)
    end
  end
  if #requests == 0 then
    error("no paths in " .. file)
  end
  -- Every wrk thread gets its own stream of picks.
  math.randomseed(os.time() + tonumber(tostring(requests):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  return requests[math.random(#requests)]
end

function done(summary, latency, requests_)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_s":%.3f,"rps":%.1f,"bytes":%d,' ..
    '"mean_ms":%.3f,"stdev_ms":%.3f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,"max_ms":%.3f,' ..
    '"non2xx":%d,"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d}}\n',
    summary.requests, secs, summary.requests / secs, summary.bytes,
    latency.mean / 1000, latency.stdev / 1000,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000,
    e.status, e.connect, e.read, e.write, e.timeout, e.status))
end
