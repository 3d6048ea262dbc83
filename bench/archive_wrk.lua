-- wrk script of bench/archive.py: prints one line of figures (percentiles wrk's --latency
-- table lacks, such as p95) and, given ARCHIVE_PATHS (a file, one path a line), cycles through
-- those paths, each thread from its own place in the list.
-- Without ARCHIVE_PATHS, wrk sends the URL's own request, built once (its fastest path).

local paths_file = os.getenv("ARCHIVE_PATHS")
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

if paths_file then
  local paths = {}
  for line in io.lines(paths_file) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  local index = 0

  function init(args)
    -- Threads start far apart in the list, so that they do not ask for the same page at once.
    index = ((id or 1) - 1) * 7919 % #paths
  end

  function request()
    index = index % #paths + 1
    return wrk.format(nil, paths[index])
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "ARCHIVE-BENCH requests=%d duration_us=%d bytes=%d p50=%d p95=%d p99=%d max=%d "
      .. "connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout
  ))
end
