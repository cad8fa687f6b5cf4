-- Fans one accepted event out into deliveries (cloud/src/storage/redis/notify-store.ts): takes the event out
-- of the inbox (nothing if another worker took it), then queues each planned delivery unless its id exists
-- or its de-duplication key was claimed less than repeatMs before the event. Every key shares the hash tag
-- of KEYS[1], the store's base (`<prefix>{notify}:`), so one cluster slot holds them all.
-- ARGV: eventId, then per delivery 10 values: id, owner ('' global), channel, prio (0..2), createdAt, nextAt,
-- base JSON, dedup key ('' none), repeatMs, event time.
local b = KEYS[1]
if redis.call('HDEL', b .. 'inbox', ARGV[1]) == 0 then return {} end
redis.call('ZREM', b .. 'inboxq', ARGV[1])
local out = {}
local i = 2
while i + 9 <= #ARGV do
  local id, owner, channel, prio, created, nextAt, base, dkey, repeatMs, at =
    ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], ARGV[i + 9]
  i = i + 10
  local send = true
  if dkey ~= '' then
    local last = redis.call('HGET', b .. 'dd', dkey)
    if last and tonumber(at) < tonumber(last) + tonumber(repeatMs) then
      send = false
    else
      redis.call('HSET', b .. 'dd', dkey, at)
    end
  end
  local k = b .. 'd:' .. id
  if send and redis.call('EXISTS', k) == 0 then
    redis.call('HSET', k, 'base', base, 'owner', owner, 'channel', channel, 'prio', prio, 'state', 'queued', 'attempts', 0,
      'nextAt', nextAt, 'createdAt', created, 'updatedAt', created)
    redis.call('ZADD', b .. 'due:' .. prio, nextAt, id)
    redis.call('ZADD', b .. 'os:' .. owner .. ':queued', created, id)
    redis.call('ZADD', b .. 'as:queued', created, id)
    redis.call('ZADD', b .. 'od:' .. owner, created, id)
    redis.call('ZADD', b .. 'all', created, id)
    out[#out + 1] = id
  end
end
return out
