-- HTTP/1.1 pipelining for wrk: each write carries `depth` GET requests for
-- the URL's path (default 16). wrk counts every response but records one
-- latency per batch, from the write to the batch's last response.
-- Usage: wrk -c64 -d10s -s bench/wrk/pipeline.lua http://127.0.0.1:8080/status -- 16

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local batch

function init(args)
  local depth = tonumber(args[1]) or 16
  batch = string.rep(wrk.format("GET", wrk.path), depth)
end

-- Defining request() makes wrk ask for each write's bytes; wrk parses the
-- first batch to learn how many responses one write expects.
function request()
  return batch
end
