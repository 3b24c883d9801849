-- wrk script of bench/run.sh's warm-up: every request the next of the paths given after "--", in turn.
-- run.sh appends wrk-report.lua to it.
local paths, i = {}, 0
init = function(args) paths = args end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
