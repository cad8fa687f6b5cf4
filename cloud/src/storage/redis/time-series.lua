--[[
@module time-series.lua: appends one point to a stream kept as a sorted set (redis-time-series.ts).
KEYS[1] <prefix>ts:{<stream>}:z  sorted set, score = ts (ms), member = <16-digit append counter>|<point JSON>
KEYS[2] <prefix>ts:{<stream>}:n  the stream's append counter
KEYS[3] <prefix>ts:{<stream>}:id set of the point identities stored, "<kid> <ep> <sq>"
ARGV    ts, point JSON, identity
All keys carry the stream as hash tag (one slot). Members with equal scores sort by their bytes
(https://redis.io/docs/latest/develop/data-types/sorted-sets/), so the zero-padded counter keeps equal
timestamps in append order. A point whose identity is already stored is not added again (the store step
may be repeated after a crash, ports.ts): returns 0 then, else the append counter.
]]
if redis.call('SADD', KEYS[3], ARGV[3]) == 0 then return 0 end
local n = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], ARGV[1], string.format('%016d', n) .. '|' .. ARGV[2])
return n
