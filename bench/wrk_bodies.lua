-- wrk script for bench/serving.py: POST prepared texts to the URL's path, cycling through them, and print one line
-- of JSON with what came back.
--
-- BENCH_TEXTS    a file of JSON arrays of strings, one per line: the texts of one request each (the same file for
--                every system, so every system classifies the same texts in the same order)
-- BENCH_FORMAT   "text" ({"text": [...]}, this service and the naive server) or "infinity" ({"model": BENCH_MODEL,
--                "input": [...]}, infinity-emb's /classify)
-- BENCH_MODEL    the model name in infinity's body
-- BENCH_TEXTS_PER_REQUEST  texts per line of BENCH_TEXTS (texts/s = that x 2xx answers / duration)
--
-- done() prints "WRK_BENCH_RESULT {...}": requests, duration_s, statuses, non_2xx, socket errors, latency_ms
-- (p50/p95/p99/max/mean of every answer wrk counted, from wrk's own histogram), texts_per_s and requests_per_s.

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local texts_path = assert(os.getenv("BENCH_TEXTS"), "set BENCH_TEXTS to a file of JSON arrays, one per line")
  local format = os.getenv("BENCH_FORMAT") or "text"
  local model = os.getenv("BENCH_MODEL")
  local headers = { ["Content-Type"] = "application/json", ["Host"] = wrk.headers["Host"] }
  requests = {}
  for line in assert(io.open(texts_path, "rb")):lines() do
    if line:match("%S") then
      local body
      if format == "text" then
        body = '{"text":' .. line .. '}'
      elseif format == "infinity" then
        body = '{"model":' .. json_string(assert(model, "set BENCH_MODEL for BENCH_FORMAT=infinity")) ..
          ',"input":' .. line .. '}'
      else
        error("BENCH_FORMAT must be text or infinity, not " .. format)
      end
      -- Whole requests formatted once: request() then only picks one, so wrk stays at ~1% of a core.
      table.insert(requests, wrk.format("POST", wrk.path, headers, body))
    end
  end
  assert(#requests > 0, "no texts in " .. texts_path)
  next_request = 0
  statuses = {}
end

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total, ok, not_ok = {}, 0, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
      if status >= 200 and status < 300 then ok = ok + count else not_ok = not_ok + count end
    end
  end
  local codes = {}
  for status, count in pairs(total) do
    table.insert(codes, string.format('"%d":%d', status, count))
  end
  local seconds = summary.duration / 1e6
  local k = tonumber(os.getenv("BENCH_TEXTS_PER_REQUEST") or "1")
  local e = summary.errors
  local function ms(us) return us / 1000 end
  io.write(string.format(
    'WRK_BENCH_RESULT {"requests":%d,"duration_s":%.3f,"statuses":{%s},"ok":%d,"non_2xx":%d,' ..
    '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
    '"latency_ms":{"p50":%.3f,"p95":%.3f,"p99":%.3f,"max":%.3f,"mean":%.3f},' ..
    '"texts_per_request":%d,"texts_per_s":%.2f,"requests_per_s":%.2f}\n',
    summary.requests, seconds, table.concat(codes, ","), ok, not_ok,
    e.connect, e.read, e.write, e.timeout,
    ms(latency:percentile(50)), ms(latency:percentile(95)), ms(latency:percentile(99)), ms(latency.max),
    ms(latency.mean),
    k, k * ok / seconds, summary.requests / seconds))
end
