-- One state change of notifier deliveries (cloud/src/storage/redis/notify-store.ts), keeping the due lanes
-- and the state indexes in step with each delivery's hash. KEYS[1] is the store's base (`<prefix>{notify}:`,
-- its hash tag holds every key in one cluster slot).
-- ARGV[1] = 'claim': ARGV[2] now, ARGV[3] lease ms, ARGV[4] limit, ARGV[5] most per channel, then pairs
--   (channel, how many the caller holds); leases due deliveries, high lane first, looking at most SCAN of
--   each lane; returns their ids.
-- ARGV[1] = 'move': ARGV[2] id, ARGV[3] expected state, ARGV[4] new state, ARGV[5] nextAt, ARGV[6] now,
--   ARGV[7] attempts ('+1', 'reset' or ''), ARGV[8] last error ('' keeps it); returns 1, or 0 when the
--   delivery is not in the expected state.
-- ARGV[1] = 'renew': ARGV[2] now, ARGV[3] lease ms, then ids; extends the lease of each still sending whose
--   lease has not run out at now; returns the ids renewed.
-- ARGV[1] = 'prune': ARGV[2] acknowledged before, ARGV[3] at most; returns how many went.
local b = KEYS[1]

local function move(id, owner, from, to, created)
  redis.call('ZREM', b .. 'os:' .. owner .. ':' .. from, id)
  redis.call('ZREM', b .. 'as:' .. from, id)
  redis.call('ZADD', b .. 'os:' .. owner .. ':' .. to, created, id)
  redis.call('ZADD', b .. 'as:' .. to, created, id)
end

if ARGV[1] == 'claim' then
  local now, lease, limit, max = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
  local held = {}
  for j = 6, #ARGV - 1, 2 do held[ARGV[j]] = tonumber(ARGV[j + 1]) end
  local SCAN = 4096
  local out = {}
  for p = 2, 0, -1 do
    if #out >= limit then break end
    local ids = redis.call('ZRANGEBYSCORE', b .. 'due:' .. p, '-inf', now, 'LIMIT', 0, SCAN)
    for _, id in ipairs(ids) do
      if #out >= limit then break end
      local k = b .. 'd:' .. id
      local f = redis.call('HMGET', k, 'state', 'owner', 'createdAt', 'channel')
      local ch = f[4] or ''
      if f[1] and (held[ch] or 0) >= max then
        -- this channel has its share: left due for a later claim
      elseif f[1] then
        held[ch] = (held[ch] or 0) + 1
        if f[1] ~= 'sending' then move(id, f[2], f[1], 'sending', f[3]) end
        redis.call('HSET', k, 'state', 'sending', 'nextAt', now + lease, 'updatedAt', now)
        redis.call('ZADD', b .. 'due:' .. p, now + lease, id)
        out[#out + 1] = id
      else
        redis.call('ZREM', b .. 'due:' .. p, id)
      end
    end
  end
  return out
elseif ARGV[1] == 'move' then
  local id, expect, to, nextAt, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
  local k = b .. 'd:' .. id
  local f = redis.call('HMGET', k, 'state', 'owner', 'createdAt', 'prio')
  if f[1] ~= expect then return 0 end
  move(id, f[2], f[1], to, f[3])
  redis.call('HSET', k, 'state', to, 'nextAt', nextAt, 'updatedAt', now)
  if ARGV[7] == '+1' then redis.call('HINCRBY', k, 'attempts', 1) elseif ARGV[7] == 'reset' then redis.call('HSET', k, 'attempts', 0) end
  if ARGV[8] ~= '' then redis.call('HSET', k, 'lastError', ARGV[8]) end
  if to == 'queued' or to == 'sending' then
    redis.call('ZADD', b .. 'due:' .. f[4], nextAt, id)
  else
    redis.call('ZREM', b .. 'due:' .. f[4], id)
  end
  if to == 'acked' then
    redis.call('HSET', k, 'ackedAt', now)
    redis.call('ZADD', b .. 'acked', now, id)
  end
  return 1
elseif ARGV[1] == 'renew' then
  local now, lease = tonumber(ARGV[2]), tonumber(ARGV[3])
  local out = {}
  for j = 4, #ARGV do
    local id = ARGV[j]
    local k = b .. 'd:' .. id
    local f = redis.call('HMGET', k, 'state', 'nextAt', 'prio')
    if f[1] == 'sending' and tonumber(f[2]) > now then
      redis.call('HSET', k, 'nextAt', now + lease)
      redis.call('ZADD', b .. 'due:' .. f[3], now + lease, id)
      out[#out + 1] = id
    end
  end
  return out
elseif ARGV[1] == 'prune' then
  local ids = redis.call('ZRANGEBYSCORE', b .. 'acked', '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
  for _, id in ipairs(ids) do
    local owner = redis.call('HGET', b .. 'd:' .. id, 'owner')
    if owner then
      redis.call('ZREM', b .. 'os:' .. owner .. ':acked', id)
      redis.call('ZREM', b .. 'od:' .. owner, id)
    end
    redis.call('ZREM', b .. 'as:acked', id)
    redis.call('ZREM', b .. 'all', id)
    redis.call('ZREM', b .. 'acked', id)
    redis.call('DEL', b .. 'd:' .. id)
  end
  return #ids
end
return redis.error_reply('unknown op ' .. tostring(ARGV[1]))
