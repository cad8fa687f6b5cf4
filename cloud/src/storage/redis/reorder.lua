--[[
@module reorder.lua: the Redis port of the per-source sequencing step (the maintained copy; it replaces
cloud/src/ingest/reorder.lua). It MIRRORS reorderStep / reorderTick / reorderFlush in ingest/reorder.ts (and
addPart / closeGroup / expireGroups in ingest/groups.ts) function by function and in the same order; change
both together. reorder-store.case.ts and the differential property test run it on a real Redis against
the TS functions (redis-reorder-store.test.ts). One EVALSHA per message makes the step atomic per device;
its only key is hash-tagged per device, so it is cluster-safe (docs/storage.md).

KEYS[1]  <prefix>{<kid>}:reorder   the source's state, JSON (ReorderState of ingest/reorder-types.ts, refs
         kept as opaque strings, plus `v`, a write counter that orders the due-index updates, and `dl`, the
         next deadline, -1 when nothing waits)
ARGV     op ('apply' | 'tick' | 'flush' | 'ack'), window, timeoutMs, groupTimeoutMs, maxOpenGroups, leaseMs,
         now, and for 'apply': ep, sq, grp ('' when none), part, parts, ref (an opaque string: the encoded
         message, never parsed here); for 'ack': the outbox ids to remove
Returns  JSON {outcome ('' for tick/flush/ack), released: [...], before, deadline, v, ob: [ids], rec, dropped}:
         the next deadline before and after the step (-1 when nothing waits), the state's write counter (0:
         nothing written), the outbox ids to confirm once `released` is stored, how many of `released` are
         re-releases, and how many outbox entries were dropped over the bound.
         cjson writes an empty Lua table as {}: the caller reads {} as [] where an array is meant.

Outbox (leaseMs > 0; ports.ts ReorderStore.confirm): what a step releases is also kept in the state, in `ob`,
as {id, t (lease end), r (the releases)}, until the taker acknowledges it with 'ack' after storing it. An entry
whose lease ended (its taker died between this script and its store, e.g. kill -9) is released again, first,
by the next apply, tick or flush on the source, and leased anew; the lease ends count as deadlines, so a tick
visits the source even if it stays silent. The time series ignores a point stored twice, so a slow taker and
a re-release cannot store one twice. At most MAX_OUTBOX entries are kept (taker stores failing for long): the
oldest are dropped and counted.

Numbers: Redis' cjson writes 14 significant digits; every number here is an integer below 2^53 with at most
13 digits (sq, ep, group ids < 2^32; ms timestamps < 10^13, i.e. before the year 2286; int32 bitmap words),
so the state round-trips exactly. Bitmap words are int32 (Lua BitOp is signed 32-bit, like JavaScript's
| & ~ <<), so both sides agree.
]]

local op = ARGV[1]
local W = tonumber(ARGV[2])
local TIMEOUT = tonumber(ARGV[3])
local GROUP_TIMEOUT = tonumber(ARGV[4])
local MAX_GROUPS = tonumber(ARGV[5])
local LEASE = tonumber(ARGV[6])
local now = tonumber(ARGV[7])
local MAX_OUTBOX = 256
local WORDS = math.ceil(W / 32)

local d = nil -- the draft state (reorder.ts draft())
local out = {} -- released, in order

local function zeros()
  local t = {}
  for i = 1, WORDS do t[i] = 0 end
  return t
end

local function list(t)
  if type(t) ~= 'table' then return {} end
  return t
end

local raw = redis.call('GET', KEYS[1])
if raw then
  local s = cjson.decode(raw)
  d = { ep = s.ep, next = s.next, seen = list(s.seen), pending = list(s.pending), groups = list(s.groups), v = tonumber(s.v) or 0 }
  -- A bitmap written under another window means nothing now (reorder.ts draft()).
  if #d.seen ~= WORDS then d.seen = zeros() end
  for _, p in ipairs(d.pending) do
    if p.group == cjson.null then p.group = nil end
  end
  for _, g in ipairs(d.groups) do g.members = list(g.members) end
  d.ob = list(s.ob)
  if LEASE <= 0 then d.ob = {} end -- outbox off: nothing to re-release
end

-- reorder.ts setSeen()
local function setSeen(sq, released)
  local i = sq % W
  local b = bit.lshift(1, i % 32)
  local w = math.floor(i / 32) + 1
  if released then d.seen[w] = bit.bor(d.seen[w], b) else d.seen[w] = bit.band(d.seen[w], bit.bnot(b)) end
end

-- reorder.ts gap(): only the last W seqs need their bits cleared.
local function gap(from, to)
  if to <= from then return end
  for s = math.max(from, to - W), to - 1 do setSeen(s, false) end
  out[#out + 1] = { type = 'gap', ep = d.ep, from = from, to = to }
end

-- groups.ts closeGroup()
local function closeGroup(g, reason)
  for i = 1, #d.groups do
    if d.groups[i] == g then
      table.remove(d.groups, i)
      break
    end
  end
  local have = {}
  for _, m in ipairs(g.members) do have[m.part] = true end
  local missing = {}
  for p = 0, g.parts - 1 do
    if not have[p] then missing[#missing + 1] = p end
  end
  out[#out + 1] = { type = 'group', ep = d.ep, id = g.id, parts = g.parts, members = g.members, missing = missing,
    complete = (#missing == 0), reason = reason }
end

-- groups.ts addPart(): a contradicting part closes the open group ('conflict') and starts a new one.
local function addPart(grp, member)
  local g = nil
  for _, x in ipairs(d.groups) do
    if x.id == grp.id then
      g = x
      break
    end
  end
  if g then
    local held = false
    for _, m in ipairs(g.members) do
      if m.part == grp.part then held = true end
    end
    if g.parts ~= grp.parts or held then
      closeGroup(g, 'conflict')
      g = nil
    end
  end
  if not g then
    if #d.groups >= MAX_GROUPS then closeGroup(d.groups[1], 'overflow') end
    g = { id = grp.id, parts = grp.parts, since = now, members = {} }
    d.groups[#d.groups + 1] = g
  end
  -- Sorted by part; part indices in a group are distinct, so this equals the TS stable sort.
  local pos = #g.members + 1
  for i, m in ipairs(g.members) do
    if m.part > member.part then
      pos = i
      break
    end
  end
  table.insert(g.members, pos, member)
  if #g.members == g.parts then closeGroup(g, 'complete') end
end

-- reorder.ts deliver()
local function deliver(p)
  setSeen(p.sq, true)
  d.next = p.sq + 1
  if p.group == nil then
    out[#out + 1] = { type = 'message', ep = d.ep, sq = p.sq, at = p.at, ref = p.ref }
  else
    addPart(p.group, { part = p.group.part, sq = p.sq, at = p.at, ref = p.ref })
  end
end

local function dropFirst(n)
  local rest = {}
  for i = n + 1, #d.pending do rest[#rest + 1] = d.pending[i] end
  d.pending = rest
end

-- reorder.ts releaseBelow()
local function releaseBelow(limit)
  local n = 0
  while n < #d.pending and d.pending[n + 1].sq < limit do
    n = n + 1
    local p = d.pending[n]
    gap(d.next, p.sq)
    deliver(p)
  end
  dropFirst(n)
  if d.next < limit then
    gap(d.next, limit)
    d.next = limit
  end
end

-- reorder.ts releaseRun()
local function releaseRun()
  local n = 0
  while n < #d.pending and d.pending[n + 1].sq == d.next do
    n = n + 1
    deliver(d.pending[n])
  end
  dropFirst(n)
end

-- reorder.ts expire(), then groups.ts expireGroups()
local function expire()
  local limit = -1
  for _, p in ipairs(d.pending) do
    if p.at + TIMEOUT <= now then limit = p.sq + 1 end
  end
  if limit >= 0 then
    releaseBelow(limit)
    releaseRun()
  end
  local due = {}
  for _, g in ipairs(d.groups) do
    if g.since + GROUP_TIMEOUT <= now then due[#due + 1] = g end
  end
  for _, g in ipairs(due) do closeGroup(g, 'timeout') end
end

-- reorder.ts drain()
local function drain(reason)
  local last = d.pending[#d.pending]
  if last then releaseBelow(last.sq + 1) end
  local all = {}
  for i, g in ipairs(d.groups) do all[i] = g end
  for _, g in ipairs(all) do closeGroup(g, reason) end
end

-- reorder.ts indexOfSq(): 1-based insertion position and whether sq is already buffered.
local function indexOfSq(sq)
  local lo, hi = 1, #d.pending + 1
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if d.pending[mid].sq < sq then lo = mid + 1 else hi = mid end
  end
  return (d.pending[lo] ~= nil and d.pending[lo].sq == sq), lo
end

-- reorder.ts classify() (JUMP_WINDOWS = 4096, MAX_EPOCH_JUMP = 1000000 there)
local function classify(ep, sq, fresh)
  if ep < d.ep then return 'late' end
  if (not fresh) and (ep > d.ep + 1000000 or (ep == d.ep and sq >= d.next + W * 4096)) then return 'jump' end
  if ep > d.ep then return 'new-epoch' end
  if sq < d.next then
    if sq < d.next - W then return 'replay' end
    local i = sq % W
    if bit.band(d.seen[math.floor(i / 32) + 1], bit.lshift(1, i % 32)) ~= 0 then return 'duplicate' end
    return 'late'
  end
  local found = indexOfSq(sq)
  if found then return 'duplicate' end
  return 'accepted'
end

-- reorder.ts nextDeadline()
local function nextDeadline()
  local t = -1
  for _, p in ipairs(d.pending) do
    if t < 0 or p.at + TIMEOUT < t then t = p.at + TIMEOUT end
  end
  for _, g in ipairs(d.groups) do
    if t < 0 or g.since + GROUP_TIMEOUT < t then t = g.since + GROUP_TIMEOUT end
  end
  for _, e in ipairs(d.ob or {}) do
    if t < 0 or e.t < t then t = e.t end
  end
  return t
end

local before = -1
if d then before = nextDeadline() end

local outcome = ''
if op == 'apply' then
  -- reorder.ts reorderStep()
  local ep, sq = tonumber(ARGV[8]), tonumber(ARGV[9])
  local grp = nil
  if ARGV[10] ~= '' then grp = { id = tonumber(ARGV[10]), part = tonumber(ARGV[11]), parts = tonumber(ARGV[12]) } end
  local fresh = d == nil
  if fresh then d = { ep = ep, next = 0, seen = zeros(), pending = {}, groups = {}, v = 0, ob = {} } end
  expire()
  local c = classify(ep, sq, fresh)
  if c == 'new-epoch' then
    drain('epoch')
    d.ep = ep
    d.next = 0
    d.seen = zeros()
    c = 'accepted'
  end
  outcome = c
  if c == 'accepted' then
    if sq >= d.next + W then releaseBelow(sq - W + 1) end
    local p = { sq = sq, at = now, ref = ARGV[13] }
    if grp then p.group = grp end
    local _, pos = indexOfSq(sq)
    table.insert(d.pending, pos, p)
    releaseRun()
  end
elseif op == 'tick' then
  if d then expire() end
elseif op == 'flush' then
  if d then drain('flush') end
elseif op == 'ack' then
  if d == nil then return cjson.encode({ outcome = '', released = {}, before = -1, deadline = -1, v = 0, ob = {}, rec = 0, dropped = 0 }) end
  local gone = {}
  for i = 8, #ARGV do gone[tonumber(ARGV[i])] = true end
  local keep = {}
  for _, e in ipairs(d.ob) do
    if not gone[e.id] then keep[#keep + 1] = e end
  end
  d.ob = keep
else
  return redis.error_reply('ERR reorder.lua: unknown op ' .. tostring(op))
end

local ob = {}
local rec = 0
local dropped = 0
if d and LEASE > 0 and op ~= 'ack' then
  -- Re-release, first and in order, what a taker never confirmed; lease it anew.
  local again = {}
  for _, e in ipairs(d.ob) do
    if e.t <= now then
      for _, x in ipairs(list(e.r)) do again[#again + 1] = x end
      e.t = now + LEASE
      ob[#ob + 1] = e.id
    end
  end
  rec = #again
  if #out > 0 then
    d.ob[#d.ob + 1] = { id = d.v + 1, t = now + LEASE, r = out }
    ob[#ob + 1] = d.v + 1
  end
  while #d.ob > MAX_OUTBOX do
    table.remove(d.ob, 1)
    dropped = dropped + 1
  end
  if rec > 0 then
    for _, x in ipairs(out) do again[#again + 1] = x end
    out = again
  end
end

local deadline = -1
local v = 0
if d then
  d.v = d.v + 1
  v = d.v
  deadline = nextDeadline()
  d.dl = deadline -- kept so a sweep can rebuild the due index from the states alone (RedisReorderStore.reindex)
  redis.call('SET', KEYS[1], cjson.encode(d))
end
return cjson.encode({ outcome = outcome, released = out, before = before, deadline = deadline, v = v, ob = ob, rec = rec, dropped = dropped })
