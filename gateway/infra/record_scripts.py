"""The Lua scripts behind infra/records.py: each reads and changes one idempotency record
atomically, with the server's clock (``TIME``), so gateways with skewed clocks agree.

Record fields: ``state`` (``in_progress`` | ``completed`` | ``unknown``), ``fp`` (request
fingerprint), ``owner`` (the attempt holding it), ``lease_until`` (ms), ``claimed`` (``new`` |
``recovered``: what the owner was told), ``first_at`` (when the key was first claimed),
``last_at`` (when an attempt that may have reached the provider last ended), ``job`` (the
write, so the reconciler can look it up without a request), ``checks`` and ``last_check``
(lookups of an unknown outcome), and for a settled record ``status``, ``headers``, ``body``.

*The reconcile schedule.* Every claimed write is entered in a sorted set (``due``: record
key by the server time it should be looked at) until it ends, and every open unknown in a
hash (``unknown``: record key -> ``program/operation``). On a single server or Sentinel the
record scripts maintain both in the same atomic call (``KEYS[n]``, ``KEYS[n+1]``); on Cluster
they sit in another slot, so :data:`SIDE` runs beside the record script (see records.py).

An unknown record has no expiry (``PERSIST``): it never ages into a "new" key. It goes
away when it is resolved: completed (then kept ``retention_ms``) or released.
"""

from __future__ import annotations

import hashlib


class Script:
    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


#: the schedule score of an unknown the reconciler gave up on (listed, never due)
NEVER = 9_000_000_000_000_000

_PRELUDE = """
local t = redis.call('TIME')
local NEVER = @NEVER@
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- the reconcile schedule: op 'claim' (enter an in-flight write, keep an existing entry),
-- 'unknown' (open unknown, look at it after delay_ms; a negative delay: never), 'done'
local function side(due, idx, rec, op, delay, summary)
  if op == 'claim' then
    redis.call('ZADD', due, 'NX', now + delay, rec)
  elseif op == 'unknown' then
    local at = now + delay
    if delay < 0 then at = NEVER end
    redis.call('ZADD', due, at, rec)
    redis.call('HSET', idx, rec, summary)
  elseif op == 'done' then
    redis.call('ZREM', due, rec)
    redis.call('HDEL', idx, rec)
  end
end
-- take a record over whose holder is gone (lease expired) or whose outcome is unknown:
-- the last moment an earlier attempt may have sent is kept, for the settle time
local function take_over(key, state, lease_until, last_at, owner, lease_ms)
  local last = tonumber(last_at) or 0
  if state == 'in_progress' then last = math.max(last, tonumber(lease_until) or 0) end
  redis.call('HSET', key, 'state', 'in_progress', 'owner', owner,
             'lease_until', now + lease_ms, 'claimed', 'recovered', 'last_at', last)
  redis.call('PERSIST', key)
  return last
end
""".replace("@NEVER@", str(NEVER))

# KEYS record[, epoch marker, due, unknown]; ARGV fingerprint, owner, lease_ms,
# retention_ms, suspect_ms, job. Replies: {'new', suspect} | {'recovered', suspect, quiet_ms,
# age_ms, checks} | {'completed', status, headers, body} | {'in_progress', left_ms} |
# {'conflict'}
CLAIM = Script(
    _PRELUDE
    + """
local lease_ms = tonumber(ARGV[3])
local suspect = 0
if #KEYS > 1 then
  local since = redis.call('GET', KEYS[2])
  if not since then
    redis.call('SET', KEYS[2], now)
    since = now
  end
  since = tonumber(since)
  if since > 0 and now - since < tonumber(ARGV[5]) then suspect = 1 end
end
local rec = redis.call('HMGET', KEYS[1], 'state', 'fp', 'lease_until', 'owner', 'claimed',
                       'last_at', 'first_at', 'checks')
local first = tonumber(rec[7]) or now
if not rec[1] then
  redis.call('HSET', KEYS[1], 'state', 'in_progress', 'fp', ARGV[1], 'owner', ARGV[2],
             'lease_until', now + lease_ms, 'claimed', 'new', 'first_at', now, 'job', ARGV[6])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  if #KEYS > 2 then side(KEYS[3], KEYS[4], KEYS[1], 'claim', lease_ms, '') end
  return {'new', suspect}
end
-- this very attempt, sent again after a lost connection: the same answer as the first time
if rec[4] == ARGV[2] then
  return {rec[5], suspect, now - (tonumber(rec[6]) or 0), now - first, tonumber(rec[8]) or 0}
end
if rec[2] ~= ARGV[1] then return {'conflict'} end
if rec[1] == 'completed' then
  local r = redis.call('HMGET', KEYS[1], 'status', 'headers', 'body')
  return {'completed', r[1], r[2], r[3]}
end
local left = (tonumber(rec[3]) or 0) - now
if rec[1] == 'in_progress' and left > 0 then return {'in_progress', left} end
-- A crashed worker or an unknown outcome: this caller takes over and must find out what
-- happened upstream before sending anything again.
local last = take_over(KEYS[1], rec[1], rec[3], rec[6], ARGV[2], lease_ms)
if #KEYS > 2 then side(KEYS[3], KEYS[4], KEYS[1], 'claim', lease_ms, '') end
return {'recovered', suspect, now - last, now - first, tonumber(rec[8]) or 0}
"""
)

# KEYS record; ARGV owner, lease_ms. The reconciler (or an operator) takes a record over
# without a request (no fingerprint). Replies: {'gone'} | {'completed'} | {'busy', left_ms}
# | {'taken', quiet_ms, age_ms, checks, job}
TAKE = Script(
    _PRELUDE
    + """
local rec = redis.call('HMGET', KEYS[1], 'state', 'lease_until', 'last_at', 'first_at',
                       'checks', 'job')
if not rec[1] then return {'gone'} end
if rec[1] == 'completed' then return {'completed'} end
local left = (tonumber(rec[2]) or 0) - now
if rec[1] == 'in_progress' and left > 0 then return {'busy', left} end
local last = take_over(KEYS[1], rec[1], rec[2], rec[3], ARGV[1], tonumber(ARGV[2]))
return {'taken', now - last, now - (tonumber(rec[4]) or now), tonumber(rec[5]) or 0,
        rec[6] or ''}
"""
)

# KEYS record; ARGV owner, lease_ms
RENEW = Script(
    _PRELUDE
    + """
local rec = redis.call('HMGET', KEYS[1], 'owner', 'state')
if rec[1] ~= ARGV[1] or rec[2] ~= 'in_progress' then return 0 end
redis.call('HSET', KEYS[1], 'lease_until', now + tonumber(ARGV[2]))
return 1
"""
)

# KEYS record[, due, unknown[, balance, changed]...]; ARGV owner, state, status, headers,
# body, retention_ms, delay_ms, summary[, changed_at_ms, changed_keep_ms]. ``completed``: the
# answer, replayed byte-for-byte. ``unknown``: this attempt may have reached the provider
# (``last_at`` is now), looked up before any re-send. The balance pairs: the cached balances
# the write changed, dropped and marked changed (as DROP_AND_MARK) in the same call, whoever
# owns the record now (the provider call happened either way); the mark is the gateway's
# clock, which the racing reads it guards compare with.
FINISH = Script(
    _PRELUDE
    + """
for i = 4, #KEYS, 2 do
  redis.call('DEL', KEYS[i])
  redis.call('SET', KEYS[i + 1], ARGV[9], 'PX', ARGV[10])
end
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'status', ARGV[3], 'headers', ARGV[4],
           'body', ARGV[5], 'lease_until', 0)
if ARGV[2] == 'completed' then
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  if #KEYS > 1 then side(KEYS[2], KEYS[3], KEYS[1], 'done', 0, '') end
else
  redis.call('HSET', KEYS[1], 'last_at', now)
  redis.call('PERSIST', KEYS[1])
  if #KEYS > 1 then side(KEYS[2], KEYS[3], KEYS[1], 'unknown', tonumber(ARGV[7]), ARGV[8]) end
end
return 1
"""
)

# KEYS record[, due, unknown]; ARGV owner, delay_ms, summary, checked (1: a lookup ran).
# A recovered attempt that sent nothing: the earlier attempt is still in question, so the
# record goes back to unknown as it was (``last_at`` unchanged), free at once.
UNRESOLVED = Script(
    _PRELUDE
    + """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'unknown', 'lease_until', 0)
if ARGV[4] == '1' then
  redis.call('HINCRBY', KEYS[1], 'checks', 1)
  redis.call('HSET', KEYS[1], 'last_check', now)
end
redis.call('PERSIST', KEYS[1])
if #KEYS > 1 then side(KEYS[2], KEYS[3], KEYS[1], 'unknown', tonumber(ARGV[2]), ARGV[3]) end
return 1
"""
)

# KEYS record[, due, unknown]; ARGV owner. Nothing of this key reached the provider (a new
# claim that sent nothing, or an unknown proven absent): forget it, so a retry sends.
RELEASE = Script(
    _PRELUDE
    + """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if #KEYS > 1 then side(KEYS[2], KEYS[3], KEYS[1], 'done', 0, '') end
return 1
"""
)

# KEYS due, unknown; ARGV record, op, delay_ms, summary. The schedule on its own (Cluster).
SIDE = Script(
    _PRELUDE
    + """
side(KEYS[1], KEYS[2], ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4])
return 1
"""
)

# KEYS due; ARGV limit, hold_ms. Hand out due entries and push each back by hold_ms, so no
# other reconciler takes the same one meanwhile (and it comes back if this one dies).
DUE = Script(
    _PRELUDE
    + """
local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(items) do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), member)
end
return items
"""
)


# KEYS balance, changed; ARGV changed_at_ms, keep_ms. A cached balance the member's change
# made wrong: dropped, and the change noted so a read that started before it does not put
# the old balance back (infra/store.py put_balance).
DROP_AND_MARK = Script(
    """
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
"""
)
