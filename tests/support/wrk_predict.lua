-- wrk script: POST the body in the file named by WRK_BODY to the URL's path, and report what came back.
-- Prints, after wrk's own summary: STATUS <code>=<count>..., RETRY_AFTER_MISSING <503s without Retry-After>,
-- LATENCY_MAX_US, LATENCY_P99_US and LATENCY_P50_US (microseconds, every answer counted).
local file = assert(io.open(assert(os.getenv("WRK_BODY"), "set WRK_BODY to a body file"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  retry_after_missing = 0
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 503 and headers["retry-after"] == nil and headers["Retry-After"] == nil then
    retry_after_missing = retry_after_missing + 1
  end
end

function done(summary, latency, requests)
  local total, missing = {}, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
    missing = missing + thread:get("retry_after_missing")
  end
  io.write("STATUS")
  for status, count in pairs(total) do
    io.write(string.format(" %d=%d", status, count))
  end
  io.write(string.format("\nRETRY_AFTER_MISSING %d\n", missing))
  io.write(string.format("LATENCY_MAX_US %d\nLATENCY_P99_US %d\n", latency.max, latency:percentile(99)))
  io.write(string.format("LATENCY_P50_US %d\n", latency:percentile(50)))
end
