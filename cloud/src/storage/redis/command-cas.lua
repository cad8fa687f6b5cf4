-- One device's command queue, compare-and-set (cloud/src/storage/redis/command-store.ts).
-- KEYS[1] the queue (JSON), KEYS[2] the due index (sorted set of devices by next sweep time).
-- ARGV: expected queue ('' = none), new queue ('' = unchanged), due ('' = none), device, id-index prefix,
-- finished prefix, retention (s), list prefix, n live ids, the live ids, m new commands as (id, owner,
-- createdAt) triples for the list index, then (id, json) pairs of finished commands.
-- Returns 0 when the queue changed since it was read (the caller reads and runs its step again), 1 when stored.
-- The list index is written in the same step as the queue, so no command is kept without being listed.
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return 0 end
local device, idx, done, keep, lists = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8]
local n = tonumber(ARGV[9])
local m = tonumber(ARGV[10 + n])
local first = 11 + n
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[1], ARGV[2])
  for i = 10, 9 + n do redis.call('SET', idx .. ARGV[i], device) end
  if ARGV[3] == '' then redis.call('ZREM', KEYS[2], device) else redis.call('ZADD', KEYS[2], ARGV[3], device) end
end
-- The list index: by owner, by device and of all, scored by creation time, trimmed to the retention counted
-- back from the newest.
local keepMs = keep * 1000
for i = first, first + 3 * (m - 1), 3 do
  local id, owner, created = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  for _, key in ipairs({ lists .. 'o:' .. owner, lists .. 'od:' .. device, lists .. 'o*' }) do
    redis.call('ZADD', key, created, id)
    redis.call('ZREMRANGEBYSCORE', key, '-inf', created - keepMs)
    redis.call('PEXPIRE', key, keepMs)
  end
end
for i = first + 3 * m, #ARGV, 2 do
  redis.call('SET', done .. ARGV[i], ARGV[i + 1], 'EX', keep)
  redis.call('DEL', idx .. ARGV[i])
end
return 1
