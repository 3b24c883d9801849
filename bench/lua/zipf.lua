-- wrk script: GETs of /cache/max-age/600?k=RANK, RANK drawn from a Zipf distribution over ZIPF_N URLs
-- (P(rank) proportional to 1 / rank^ZIPF_S; defaults 10000 and 0.9), and a count of X-Cache: HIT answers.
--   ZIPF_N=10000 ZIPF_S=0.9 wrk -c 30 -d 10s -s bench/lua/zipf.lua http://HOST:PORT
-- ZIPF_MAX: each thread stops after that many responses (0, the default: run for wrk's -d), so that runs of
-- different speeds see the same stream length and their hit ratios compare.
-- done() prints "zipf: requests N hits H hit-ratio R" (summed over wrk's threads).
local n = tonumber(os.getenv("ZIPF_N") or "10000")
local max = tonumber(os.getenv("ZIPF_MAX") or "0")
local s = tonumber(os.getenv("ZIPF_S") or "0.9")
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local cdf = {}
requests, hits = 0, 0

function init(args)
  local total = 0
  for i = 1, n do
    total = total + 1 / (i ^ s)
    cdf[i] = total
  end
  for i = 1, n do cdf[i] = cdf[i] / total end
  math.randomseed(os.time() * 1000 + id)
end

function request()
  local u = math.random()
  local lo, hi = 1, n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return wrk.format("GET", "/cache/max-age/600?k=" .. lo)
end

function response(status, headers, body)
  requests = requests + 1
  if headers["X-Cache"] == "HIT" then hits = hits + 1 end
  if max > 0 and requests >= max then wrk.thread:stop() end
end

function done(summary, latency, reqs)
  local r, h = 0, 0
  for _, t in ipairs(threads) do
    r = r + t:get("requests")
    h = h + t:get("hits")
  end
  io.write(string.format("zipf: requests %d hits %d hit-ratio %.3f\n", r, h, r > 0 and h / r or 0))
end
