#!lua name=hikyaku_suppression
-- Suppression lists (SuppressionStore.swift): per list a hash of lower-cased address →
-- entry JSON and a sorted set of the addresses that expire, by expiry (ms). Lookups are
-- HGET (+ ZSCORE) per recipient, in hk_enqueue and at RCPT; an expiry in the past counts
-- as removed before the sweeper (hks_sweep) gets to it. Redis 7.0 has no per-field TTL
-- (HEXPIRE came in 7.4), hence the sorted set. Keys: docs/KEY-LAYOUT.md.
--
-- Every key is passed in KEYS (QueueKeys.swift).

-- Writes one entry and keeps the expiry index in step; true if it expires.
local function put_entry(hash, expiries, address, entry, expiry)
  local added = redis.call('HSET', hash, address, entry)
  if expiry ~= '' then
    redis.call('ZADD', expiries, expiry, address)
  else
    redis.call('ZREM', expiries, address)
  end
  return added, expiry ~= ''
end

-- hks_add
--   KEYS: sup:<list>, supx:<list>, supl
--   ARGV: list, then per entry: address (lower-cased), entry JSON, expiry ms ('' = none)
-- Adds or replaces entries (an import sends up to a thousand at once); keeps the expiry
-- index in step and the list in `supl` while it has expiring entries. Returns how many
-- addresses were new.
redis.register_function('hks_add', function(keys, args)
  local hash, expiries, lists = keys[1], keys[2], keys[3]
  local added, expiring = 0, false
  for i = 2, #args, 3 do
    local new, expires = put_entry(hash, expiries, args[i], args[i + 1], args[i + 2])
    added = added + new
    expiring = expiring or expires
  end
  if expiring then redis.call('SADD', lists, args[1]) end
  return added
end)

-- hks_remove
--   KEYS: sup:<list>, supx:<list>
--   ARGV: address (lower-cased)
-- Returns 1 if the address was on the list.
redis.register_function('hks_remove', function(keys, args)
  redis.call('ZREM', keys[2], args[1])
  return redis.call('HDEL', keys[1], args[1])
end)

-- hks_sweep
--   KEYS: sup:<list>, supx:<list>, supl
--   ARGV: list, limit
-- Removes up to `limit` entries whose expiry (Redis's clock) has passed; drops the list
-- from `supl` once nothing in it expires. Returns {removed, more (1: call again)}.
redis.register_function('hks_sweep', function(keys, args)
  local hash, expiries, lists = keys[1], keys[2], keys[3]
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local limit = tonumber(args[2])
  local due = redis.call('ZRANGE', expiries, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit)
  if #due > 0 then
    redis.call('HDEL', hash, unpack(due))
    redis.call('ZREM', expiries, unpack(due))
  end
  if redis.call('EXISTS', expiries) == 0 then redis.call('SREM', lists, args[1]) end
  return {#due, #due == limit and 1 or 0}
end)

-- hks_unsubscribe
--   KEYS: sup:<list>, supx:<list>, supl, events
--   ARGV: list, address (lower-cased), entry JSON, expiry ms ('' = none), events max
--         length, event JSON
-- One-click unsubscribe (RFC 8058): adds the `unsubscribe` entry and its `unsubscribed`
-- event, once. While the address is on the list for `unsubscribe` (not expired), nothing
-- is written: a repeated POST, the mailto form after the link. An entry of another reason
-- (a hard bounce that would expire) is replaced. Returns 1 if written, 0 if not.
redis.register_function('hks_unsubscribe', function(keys, args)
  local hash, expiries, lists, events = keys[1], keys[2], keys[3], keys[4]
  local address = args[2]
  local existing = redis.call('HGET', hash, address)
  if existing and string.find(existing, '"reason":"unsubscribe"', 1, true) then
    local expiry = redis.call('ZSCORE', expiries, address)
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    if not expiry or tonumber(expiry) > now then return 0 end
  end
  local _, expires = put_entry(hash, expiries, address, args[3], args[4])
  if expires then redis.call('SADD', lists, args[1]) end
  redis.call('XADD', events, 'MAXLEN', '~', args[5], '*', 'e', args[6])
  return 1
end)
