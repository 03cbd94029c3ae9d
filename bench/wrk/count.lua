-- Ends wrk (exit status 0, no summary) after `limit` 200 responses
-- (default 20000), so a traced run covers a known amount of work:
-- bench/syscalls' keep-alive load shape. (wrk.thread:stop() would leave
-- wrk waiting out -d.) The requests in flight on the other connections
-- when it exits may still be read and answered: with 16 connections at
-- most 15 beyond the limit, under 0.1 % of 20,000. Any other status ends
-- it with exit status 1.
-- Usage: wrk -t1 -c16 -d60s -s bench/wrk/count.lua http://127.0.0.1:8080/status -- 20000

local limit
local answered = 0

function init(args)
  limit = tonumber(args[1]) or 20000
end

function response(status)
  if status ~= 200 then
    io.stderr:write("bench/wrk/count.lua: status " .. status .. "\n")
    os.exit(1)
  end
  answered = answered + 1
  if answered >= limit then
    os.exit(0)
  end
end
