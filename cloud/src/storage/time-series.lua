--[[
@module time-series.lua: appends one point to a stream kept as a sorted set (redis-time-series.ts).
KEYS[1] <prefix>ts:{<stream>}:z  sorted set, score = ts (ms), member = <16-digit append counter>|<point JSON>
KEYS[2] <prefix>ts:{<stream>}:n  the stream's append counter
ARGV    ts, point JSON
Both keys carry the stream as hash tag (one slot). Members with equal scores sort by their bytes
(https://redis.io/docs/latest/develop/data-types/sorted-sets/), so the zero-padded counter keeps equal
timestamps in append order, and makes every member unique (two equal points are both kept).
]]
local n = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], ARGV[1], string.format('%016d', n) .. '|' .. ARGV[2])
return n
