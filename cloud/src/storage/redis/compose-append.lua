-- Appends one output to a composite stream's history (storage/redis/compose-store.ts), once: the output's id
-- is its idempotency key, so a redelivered update adds nothing. Past the cap the oldest go first.
-- KEYS[1] the sorted set (score lastUpdate, member id), KEYS[2] the hash id -> value.
-- ARGV: id, lastUpdate, value (JSON), cap.
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[3]) == 0 then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local n = redis.call('ZCARD', KEYS[1])
local over = n - tonumber(ARGV[4])
if over > 0 then
  local old = redis.call('ZRANGE', KEYS[1], 0, over - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, over - 1)
  redis.call('HDEL', KEYS[2], unpack(old))
end
return 1
