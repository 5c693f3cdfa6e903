-- wrk script: POSTs GraphQL requests read from a file, round robin, and counts answers that are
-- not HTTP 200 or whose body carries "errors" (async-graphql answers 200 with errors).
-- The file: one request per line, "<token>\t<json body>"; an empty token sends no Authorization.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  requests = {}
  for line in io.lines(path) do
    local token, body = line:match("^([^\t]*)\t(.*)$")
    local headers = { ["Content-Type"] = "application/json" }
    if token ~= "" then headers["Authorization"] = "Bearer " .. token end
    table.insert(requests, wrk.format("POST", "/graphql", headers, body))
  end
  -- Each thread starts at a different place in the list.
  index = (id or 0) * 7
  errors = 0
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, t in ipairs(threads) do failed = failed + t:get("errors") end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f error_bodies=%d socket_errors=%d\n",
    summary.requests, summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    failed, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
