"""The Lua scripts the Redis lease backend runs: each is one atomic step on one pool's keys.

Keys of a pool (all in one Redis Cluster hash slot): `free` (zset: number -> end of its last
hold in ms, 0 if never held), `held` (zset: number -> hold end), `holder` (hash: number ->
visitor), `visitor` (hash: visitor -> number), `lease` (hash: number -> SQL lease id of the
live hold), `e164` (hash: number -> E.164, the pool's current numbers), `meta` (hash: load
fingerprint). Numbers are zero-padded so equal scores order by number id. Times come from the
caller (`now` in ms), never from the Redis clock, so tests can travel in time. ACQUIRE takes
the SQL lease id of a new hold as an optional fifth argument when the caller drew it before
(no CONFIRM follows then).
"""

from __future__ import annotations

KEY_NAMES = ("free", "held", "holder", "visitor", "lease", "e164", "meta")

# Moves holds that ended at or before `now` from `held` back to `free`, scored by their end.
_RELEASE_ENDED = """
local function release_ended(now)
  local ended = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1000)
  for i = 1, #ended, 2 do
    local n, ends = ended[i], ended[i + 1]
    redis.call('ZREM', KEYS[2], n)
    local who = redis.call('HGET', KEYS[3], n)
    redis.call('HDEL', KEYS[3], n)
    redis.call('HDEL', KEYS[5], n)
    if who and redis.call('HGET', KEYS[4], who) == n then redis.call('HDEL', KEYS[4], who) end
    if redis.call('HEXISTS', KEYS[6], n) == 1 then redis.call('ZADD', KEYS[1], ends, n) end
  end
  return #ended / 2
end
"""

ACQUIRE = (
    _RELEASE_ENDED
    + """
local now, grace = tonumber(ARGV[1]), tonumber(ARGV[2])
local cooldown, visitor = tonumber(ARGV[3]), ARGV[4]
if redis.call('EXISTS', KEYS[7]) == 0 then return {'unloaded'} end
release_ended(now)
local own = redis.call('HGET', KEYS[4], visitor)
if own then
  local ends = redis.call('ZSCORE', KEYS[2], own)
  if ends and tonumber(ends) > now and redis.call('HGET', KEYS[3], own) == visitor then
    local hold_until = now + grace
    redis.call('ZADD', KEYS[2], hold_until, own)
    return {'existing', own, tostring(hold_until), redis.call('HGET', KEYS[5], own) or '',
            redis.call('HGET', KEYS[6], own) or ''}
  end
end
local free = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - cooldown,
                        'WITHSCORES', 'LIMIT', 0, 1)
if #free == 0 then return {'overflow'} end
local n = free[1]
local hold_until = now + grace
redis.call('ZREM', KEYS[1], n)
redis.call('ZADD', KEYS[2], hold_until, n)
redis.call('HSET', KEYS[3], n, visitor)
redis.call('HSET', KEYS[4], visitor, n)
if ARGV[5] then redis.call('HSET', KEYS[5], n, ARGV[5]) else redis.call('HDEL', KEYS[5], n) end
return {'new', n, tostring(hold_until), free[2], redis.call('HGET', KEYS[6], n) or ''}
"""
)

# After the SQL lease row is written: remember its id, if the hold is still this visitor's.
CONFIRM = """
if redis.call('HGET', KEYS[3], ARGV[1]) == ARGV[2] then
  redis.call('HSET', KEYS[5], ARGV[1], ARGV[3])
  return 1
end
return 0
"""

# The SQL write failed: give the number back as it was (released at ARGV[3]).
UNDO = """
if redis.call('HGET', KEYS[3], ARGV[1]) == ARGV[2] then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('HDEL', KEYS[5], ARGV[1])
  if redis.call('HGET', KEYS[4], ARGV[2]) == ARGV[1] then redis.call('HDEL', KEYS[4], ARGV[2]) end
  if redis.call('HEXISTS', KEYS[6], ARGV[1]) == 1 then
    redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  end
  return 1
end
return 0
"""

# Like ACQUIRE, says 'unloaded' when the pool is not in Redis (lost with Redis's data): the
# caller reloads it from the lease history and asks again, so a live hold is not called gone.
HEARTBEAT = """
local now, grace, visitor = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
if redis.call('EXISTS', KEYS[7]) == 0 then return {'unloaded'} end
local own = redis.call('HGET', KEYS[4], visitor)
if not own then return false end
local ends = redis.call('ZSCORE', KEYS[2], own)
if not ends or tonumber(ends) <= now or redis.call('HGET', KEYS[3], own) ~= visitor then
  return false
end
local hold_until = now + grace
redis.call('ZADD', KEYS[2], hold_until, own)
return {own, tostring(hold_until), redis.call('HGET', KEYS[5], own) or ''}
"""

RELEASE_ENDED = _RELEASE_ENDED + "\nreturn release_ended(tonumber(ARGV[1]))\n"

# Merge the pool's numbers read from SQL: numbers Redis already knows keep their live state;
# new ones start from their SQL history; numbers gone from the pool are no longer handed out.
# ARGV: now, fingerprint, then per number: id, e164, last hold end, holder, hold end, lease id.
LOAD = """
local now = tonumber(ARGV[1])
local given = {}
for i = 3, #ARGV, 6 do
  local n, e164, last_end, who, hold_until, lease =
    ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  given[n] = true
  local known = redis.call('HEXISTS', KEYS[6], n) == 1 or redis.call('ZSCORE', KEYS[2], n)
  redis.call('HSET', KEYS[6], n, e164)
  if not known then
    if who ~= '' and tonumber(hold_until) > now then
      redis.call('ZADD', KEYS[2], hold_until, n)
      redis.call('HSET', KEYS[3], n, who)
      redis.call('HSET', KEYS[4], who, n)
      if lease ~= '' then redis.call('HSET', KEYS[5], n, lease) end
    else
      redis.call('ZADD', KEYS[1], last_end, n)
    end
  end
end
for _, n in ipairs(redis.call('HKEYS', KEYS[6])) do
  if not given[n] then
    redis.call('HDEL', KEYS[6], n)
    redis.call('ZREM', KEYS[1], n)
  end
end
redis.call('HSET', KEYS[7], 'fingerprint', ARGV[2], 'loaded_at', ARGV[1])
return 1
"""

CENSUS = """
local now, cooldown = tonumber(ARGV[1]), tonumber(ARGV[2])
local free_before = now - cooldown
local held = redis.call('ZCOUNT', KEYS[2], '(' .. now, '+inf')
local cooling = redis.call('ZCOUNT', KEYS[2], '(' .. free_before, now)
  + redis.call('ZCOUNT', KEYS[1], '(' .. free_before, '+inf')
local available = redis.call('ZCOUNT', KEYS[2], '-inf', free_before)
  + redis.call('ZCOUNT', KEYS[1], '-inf', free_before)
return {held, cooling, available}
"""
