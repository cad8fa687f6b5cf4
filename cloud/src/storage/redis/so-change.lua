-- Notes a change of one service object (storage/redis/so-records.ts) in the change log every worker reads:
-- a counter and a sorted set of object ids by the counter's value, in one step, so a worker that has seen
-- the log up to n never misses a change numbered below n. An object is in the set once, at its last change.
-- KEYS[1] the counter, KEYS[2] the sorted set. ARGV[1] the object id.
local n = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], n, ARGV[1])
return n
