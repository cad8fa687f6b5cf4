--[[
@module due-index.lua: records a source's next deadline in the global due index, newest state wins.
KEYS[1] <prefix>{due}:index  sorted set: kid -> next deadline (ms), only sources with something waiting
KEYS[2] <prefix>{due}:ver    hash: kid -> the write counter `v` of the state the score describes
ARGV    kid, v (reorder.lua's write counter), deadline (-1: nothing waits)
Both keys share the {due} hash tag, so this is one slot; it is a second call after reorder.lua (whose keys
live in the device's slot), so the two are NOT atomic together. The counter makes the updates of concurrent
workers commute: an update older than the one recorded is ignored. docs/storage.md argues why a stale or
extra entry only costs a wasted visit by tick, and what a worker dying between the two calls costs.
]]
local kid, v, deadline = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local cur = tonumber(redis.call('HGET', KEYS[2], kid) or '0')
if v <= cur then return 0 end
if deadline < 0 then
  -- Idle: forget the counter too, so the hash only holds busy sources. A delayed older update may then
  -- re-add the source: an extra entry, which tick visits once and removes.
  redis.call('ZREM', KEYS[1], kid)
  redis.call('HDEL', KEYS[2], kid)
else
  redis.call('ZADD', KEYS[1], deadline, kid)
  redis.call('HSET', KEYS[2], kid, v)
end
return 1
