-- One device's command queue, compare-and-set (cloud/src/storage/redis/command-store.ts).
-- KEYS[1] the queue (JSON), KEYS[2] the due index (sorted set of devices by next sweep time).
-- ARGV: expected queue ('' = none), new queue ('' = unchanged), due ('' = none), device, id-index prefix,
-- finished prefix, retention (s), n live ids, the live ids, then (id, json) pairs of finished commands.
-- Returns 0 when the queue changed since it was read (the caller reads and runs its step again), 1 when stored.
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return 0 end
local device, idx, done, keep = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
local n = tonumber(ARGV[8])
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[1], ARGV[2])
  for i = 9, 8 + n do redis.call('SET', idx .. ARGV[i], device) end
  if ARGV[3] == '' then redis.call('ZREM', KEYS[2], device) else redis.call('ZADD', KEYS[2], ARGV[3], device) end
end
for i = 9 + n, #ARGV, 2 do
  redis.call('SET', done .. ARGV[i], ARGV[i + 1], 'EX', keep)
  redis.call('DEL', idx .. ARGV[i])
end
return 1
