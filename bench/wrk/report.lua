-- Prints wrk's totals as one JSON line prefixed with BENCH_RESULT, so that
-- bench/harness reads exact numbers instead of wrk's rounded text.
-- Latencies are microseconds; `status` counts non-2xx/3xx responses.

-- wrk's percentile() walks its histogram upwards from the smallest latency
-- it recorded, but the coordinated-omission correction wrk applies after a
-- run can add samples below that smallest one (it happens with pipelining,
-- where wrk spaces the samples it adds by the time per response rather
-- than per batch). Those samples are never reached, the running total stays
-- short of the rank, and percentile() returns 0. This finds the share of
-- samples percentile() can reach and takes every percentile within it; when
-- nothing is out of reach the share is 100 % and nothing changes.
local function reachable_share(latency)
  if latency:percentile(99.9999) ~= 0 then
    return 100
  end
  local lo, hi = 0, 99.9999 -- percentile(lo) ~= 0, percentile(hi) == 0
  for _ = 1, 40 do
    local mid = (lo + hi) / 2
    if latency:percentile(mid) ~= 0 then lo = mid else hi = mid end
  end
  return lo
end

function done(summary, latency, requests)
  local share = reachable_share(latency)
  local function at(p)
    return latency:percentile(p * share / 100)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"reachable_pct":%.3f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    at(50), at(90), at(99), latency.max, share,
    e.connect, e.read, e.write, e.status, e.timeout))
end
