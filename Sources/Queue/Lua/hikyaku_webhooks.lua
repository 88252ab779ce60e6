#!lua name=hikyaku_webhooks
-- Signed webhooks (WebhookStore.swift, Sources/Webhooks): the events stream's consumer
-- group `webhooks` fans events out to one outbox per endpoint; a sender holding the
-- endpoint's lease POSTs the head of its outbox and settles it here. The keys and who may
-- touch them: docs/KEY-LAYOUT.md.
--
-- An outbox item is one event as the receiver gets it: `{"event_id":"<stream id>",…}`.
-- Outboxes and dead letters are lists, appended at the tail and taken from the head, and
-- bounded: past the bound the oldest are dropped and the count returned (the caller logs
-- and counts it).
--
-- Every key is passed in KEYS (QueueKeys.swift).

local function event_id(item)
  return string.match(item, '^{"event_id":"([^"]+)"')
end

-- Drops the oldest entries of list `key` beyond `max`; returns how many.
local function bound(key, max)
  local over = redis.call('LLEN', key) - max
  if over <= 0 then return 0 end
  redis.call('LTRIM', key, over, -1)
  return over
end

-- hkw_fanout
--   KEYS: events, outbox_1 … outbox_n
--   ARGV: group, max_outbox, nentries, then per entry: stream id, k, k outbox indexes
--         (1-based, into the outboxes), payload
-- Appends each entry's payload to its outboxes and acknowledges it in `group`, in one
-- step: an entry is either acknowledged and in every outbox, or neither (a dispatcher
-- killed before the step leaves it pending, and it is claimed again).
-- Returns {index, dropped, …} for the outboxes that went over max_outbox.
redis.register_function('hkw_fanout', function(keys, args)
  local events, group, max = keys[1], args[1], tonumber(args[2])
  local n = tonumber(args[3])
  local i = 4
  local touched = {}
  local ids = {}
  for _ = 1, n do
    local id, k = args[i], tonumber(args[i + 1])
    local payload = args[i + 2 + k]
    for j = 1, k do
      local index = tonumber(args[i + 1 + j])
      redis.call('RPUSH', keys[1 + index], payload)
      touched[index] = true
    end
    ids[#ids + 1] = id
    i = i + 3 + k
  end
  -- One XACK for the whole batch (the dispatcher reads at most a few hundred at a time).
  if #ids > 0 then redis.call('XACK', events, group, unpack(ids)) end
  local out = {}
  for index in pairs(touched) do
    local dropped = bound(keys[1 + index], max)
    if dropped > 0 then
      out[#out + 1] = index
      out[#out + 1] = dropped
    end
  end
  return out
end)

-- hkw_settle
--   KEYS: outbox, dead, state, lease
--   ARGV: token, outcome (ok | dead | retry), max_dead, attempts, first_failure_ms, next_ms,
--         event id…
-- After a POST of the outbox's head: `ok` removes the sent items, `dead` moves them to the
-- dead letters, both forget the retry state; `retry` records it. Only the lease holder may
-- settle (a sender whose lease lapsed gets LEASE and stops). The sent items are removed by
-- event id from the head, so items the bound dropped meanwhile are not mistaken for them.
-- Returns {items removed, dead letters dropped}.
redis.register_function('hkw_settle', function(keys, args)
  local outbox, dead, state, lease = keys[1], keys[2], keys[3], keys[4]
  if redis.call('GET', lease) ~= args[1] then return redis.error_reply('LEASE the endpoint lease is not held') end
  local outcome = args[2]
  if outcome == 'retry' then
    redis.call('HSET', state, 'attempts', args[4], 'first', args[5], 'next', args[6])
    return {0, 0}
  end
  local sent = {}
  for i = 7, #args do sent[args[i]] = true end
  local removed = 0
  while true do
    local head = redis.call('LINDEX', outbox, 0)
    if not head or not sent[event_id(head)] then break end
    redis.call('LPOP', outbox)
    if outcome == 'dead' then redis.call('RPUSH', dead, head) end
    removed = removed + 1
  end
  redis.call('DEL', state)
  local dropped = 0
  if outcome == 'dead' then dropped = bound(dead, tonumber(args[3])) end
  return {removed, dropped}
end)

-- hkw_renew
--   KEYS: lease
--   ARGV: token, lease_ms
-- Extends the lease if `token` still holds it: 1, else 0.
redis.register_function('hkw_renew', function(keys, args)
  if redis.call('GET', keys[1]) ~= args[1] then return 0 end
  redis.call('PEXPIRE', keys[1], args[2])
  return 1
end)

-- hkw_release
--   KEYS: lease
--   ARGV: token
redis.register_function('hkw_release', function(keys, args)
  if redis.call('GET', keys[1]) ~= args[1] then return 0 end
  redis.call('DEL', keys[1])
  return 1
end)

-- hkw_replay
--   KEYS: dead, outbox, state
--   ARGV: max_outbox
-- Moves every dead letter to the outbox's tail and clears the retry state, so the next
-- sender tries at once. Returns {moved, dropped by the outbox bound}.
redis.register_function('hkw_replay', function(keys, args)
  local dead, outbox, state = keys[1], keys[2], keys[3]
  local items = redis.call('LRANGE', dead, 0, -1)
  for start = 1, #items, 1000 do
    redis.call('RPUSH', outbox, unpack(items, start, math.min(start + 999, #items)))
  end
  redis.call('DEL', dead, state)
  return {#items, bound(outbox, tonumber(args[1]))}
end)

-- hkw_endpoint_delete
--   KEYS: webhooks, outbox, dead, state, lease
--   ARGV: endpoint id
redis.register_function('hkw_endpoint_delete', function(keys, args)
  local removed = redis.call('HDEL', keys[1], args[1])
  redis.call('DEL', keys[2], keys[3], keys[4], keys[5])
  return removed
end)
