#!lua name=hikyaku_admin
-- The operator's atomic steps (`hikyaku suspend`, `resume`, `retry-now`, `bounce`,
-- `purge`), on the data model of the hikyaku library (docs/KEY-LAYOUT.md).
--
-- A function cannot call another library's functions (FCALL is refused inside scripts),
-- so `add_work` and the deferred-member format repeat those of hk_promote, and `finalize`
-- repeats the bookkeeping of hk_complete (`remaining`, depth:<pool>, deleting message and
-- body with the last recipient).
--
-- Every function does a bounded amount of work — at most `limit` entries, or the members
-- it is given — so Redis is never held for long; QueueAdmin calls it in a loop:
--
--   C: FCALL hka_remove_queued 4 hk:q:default:example.net hk:ready:default hk:depth:default hk:events
--        example.net bounced "550 5.0.0 ..." operator 1000000 "" 500 hk:msg: hk:body:
--   S: *6  $15 1732842123456-0  :500 :512 :2 :2 :311   (cursor, removed, rcpts, claimed, rcpts, msgs deleted)
--   C: (the same with cursor 1732842123456-0)
--   S: *6  $0  :37 :37 :0 :0 :37                         (empty cursor: done)
--
-- Every key is passed in KEYS (QueueKeys.swift), except those listed in
-- docs/KEY-LAYOUT.md, built from a stem the caller passes in ARGV.

local GROUP = 'workers'

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- RFC 3339, UTC, milliseconds (civil date from day number, after H. Hinnant).
local function iso8601(ms)
  local s = math.floor(ms / 1000)
  local milli = ms - s * 1000
  local days = math.floor(s / 86400)
  local secs = s - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local day = doy - math.floor((153 * mp + 2) / 5) + 1
  local month = mp < 10 and mp + 3 or mp - 9
  local year = yoe + era * 400
  if month <= 2 then year = year + 1 end
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', year, month, day,
    math.floor(secs / 3600), math.floor(secs % 3600 / 60), secs % 60, milli)
end

local function split_lines(text)
  local out = {}
  if not text or text == '' then return out end
  for line in string.gmatch(text, '[^\n]+') do out[#out + 1] = line end
  return out
end

-- Deferred member: entry_id TAB pool TAB domain TAB qid TAB attempts TAB accepted_ms TAB rcpts.
local function parse_member(member)
  local parts = {}
  for part in string.gmatch(member, '([^\t]*)\t?') do
    parts[#parts + 1] = part
    if #parts == 7 then break end
  end
  return {pool = parts[2], domain = parts[3], qid = parts[4], attempts = parts[5], accepted = parts[6], rcpts = parts[7]}
end

-- As in the hikyaku library: one entry per (message, domain); LT brings the domain
-- forward to now and never pushes it back.
local function add_work(stream, ready, domain, fields, now)
  if redis.call('EXISTS', stream) == 0 then
    redis.call('XGROUP', 'CREATE', stream, GROUP, '0', 'MKSTREAM')
  end
  redis.call('XADD', stream, '*', unpack(fields))
  redis.call('ZADD', ready, 'LT', now, domain)
end

-- A final event (bounced or purged) for each recipient, then the bookkeeping of
-- hk_complete. `k` holds the keys: msg, body, depth, events. Returns 1 when this was the
-- message's last recipient (message deleted).
local function finalize(k, qid, domain, rcpts, attempts, accepted_fallback, kind, reply, node, time, maxlen)
  if #rcpts == 0 then return 0 end
  local info = redis.call('HMGET', k.msg, 'sender', 'mid', 'accepted')
  local accepted = tonumber(info[3] or accepted_fallback or '')
  for _, rcpt in ipairs(rcpts) do
    local event = {event = kind, time = time, queue_id = qid, sender = info[1] or '', recipient = rcpt,
                   domain = domain, reply = reply, attempt = tonumber(attempts) or 0, node = node}
    if info[2] then event.message_id = info[2] end
    if accepted then event.accepted_at = iso8601(accepted) end
    redis.call('XADD', k.events, 'MAXLEN', '~', maxlen, '*', 'e', cjson.encode(event))
  end
  redis.call('DECRBY', k.depth, #rcpts)
  if redis.call('HINCRBY', k.msg, 'remaining', -#rcpts) <= 0 then
    redis.call('DEL', k.msg, k.body)
    return 1
  end
  return 0
end

-- hka_suspend
--   KEYS: the suspension (susp:site:<site>, susp:ip:<unit> or susp:ipall:<ip>), events
--         (absent when the limit keys have a slot of their own: the caller adds the event)
--   ARGV: duration_ms, events_maxlen, event
-- Sets (or replaces) the suspension with the event as its reason and records the event.
redis.register_function('hka_suspend', function(keys, args)
  local duration, maxlen, event = tonumber(args[1]), args[2], args[3]
  if not duration or duration < 1 then return redis.error_reply('duration must be at least 1 ms') end
  redis.call('SET', keys[1], event, 'PX', duration)
  if keys[2] then redis.call('XADD', keys[2], 'MAXLEN', '~', maxlen, '*', 'e', event) end
  return 1
end)

-- hka_resume
--   KEYS: the suspension, events (absent as for hka_suspend)
--   ARGV: events_maxlen, event
-- Lifts a suspension and records the event. Returns the milliseconds it still had to run
-- (-1: no expiry), or -2 (nothing written) when there was none.
redis.register_function('hka_resume', function(keys, args)
  local maxlen, event = args[1], args[2]
  local left = redis.call('PTTL', keys[1])
  if left == -2 then return -2 end
  redis.call('DEL', keys[1])
  if keys[2] then redis.call('XADD', keys[2], 'MAXLEN', '~', maxlen, '*', 'e', event) end
  return left
end)

-- hka_bring_forward
--   KEYS: ready:<pool>
--   ARGV: window_ms, limit
-- Makes up to `limit` domains of the pool that are scored after now, and at most
-- `window_ms` after now (negative: any time), due now. Returns how many; call again while
-- it returns `limit`.
redis.register_function('hka_bring_forward', function(keys, args)
  local ready, window, limit = keys[1], tonumber(args[1]), tonumber(args[2])
  local now = now_ms()
  local upto = '+inf'
  if window >= 0 then upto = now + window end
  local later = redis.call('ZRANGE', ready, '(' .. now, upto, 'BYSCORE', 'LIMIT', 0, limit)
  for _, domain in ipairs(later) do redis.call('ZADD', ready, now, domain) end
  return #later
end)

-- hka_ready_now
--   KEYS: q:<pool>:<domain>, ready:<pool>
--   ARGV: domain
-- Makes one domain due now if it has work. Returns 1 if it was not due yet (or missing
-- from the index), else 0.
redis.register_function('hka_ready_now', function(keys, args)
  local stream, ready, domain = keys[1], keys[2], args[1]
  if redis.call('EXISTS', stream) == 0 then return 0 end
  local now = now_ms()
  local score = redis.call('ZSCORE', ready, domain)
  if score and tonumber(score) <= now then return 0 end
  redis.call('ZADD', ready, now, domain)
  return 1
end)

-- hka_promote_members
--   KEYS: deferred, then per member: q:<pool>:<domain>, ready:<pool> (of that member)
--   ARGV: member...
-- Moves the given deferred members (those still deferred) back into their streams now,
-- keeping their attempt count. Returns {items, recipients}.
redis.register_function('hka_promote_members', function(keys, args)
  local deferred = keys[1]
  local now = now_ms()
  local items, rcpts = 0, 0
  for i = 1, #args do
    local member = args[i]
    if redis.call('ZSCORE', deferred, member) then
      local m = parse_member(member)
      add_work(keys[2 * i], keys[2 * i + 1], m.domain, {'q', m.qid, 'r', m.rcpts, 'n', m.attempts, 't', m.accepted}, now)
      redis.call('ZREM', deferred, member)
      items = items + 1
      rcpts = rcpts + #split_lines(m.rcpts)
    end
  end
  return {items, rcpts}
end)

-- hka_remove_queued
--   KEYS: q:<pool>:<domain>, ready:<pool>, depth:<pool>, events
--   ARGV: domain, kind, reply, node, events_maxlen, cursor, limit, msg_stem, body_stem
-- Looks at up to `limit` entries of the domain's stream after `cursor` (an entry id, ''
-- for the start). Entries a worker holds (in the group's pending list) are counted and
-- left alone; the others are acknowledged, deleted and finalized (one `kind` event per
-- recipient). Returns {next_cursor ('' when done), removed, removed_rcpts, claimed,
-- claimed_rcpts, messages_deleted}.
-- Keys built here: msg:<qid> and body:<qid> of each entry (known only once read).
redis.register_function('hka_remove_queued', function(keys, args)
  local stream, ready = keys[1], keys[2]
  local domain, kind, reply, node = args[1], args[2], args[3], args[4]
  local maxlen, cursor, limit = args[5], args[6], tonumber(args[7])
  local msg_stem, body_stem = args[8], args[9]
  if redis.call('EXISTS', stream) == 0 then return {'', 0, 0, 0, 0, 0} end
  local start = '-'
  if cursor ~= '' then start = '(' .. cursor end
  local entries = redis.call('XRANGE', stream, start, '+', 'COUNT', limit)
  local time = iso8601(now_ms())
  local removed, removed_rcpts, claimed, claimed_rcpts, deleted = 0, 0, 0, 0, 0
  local last = ''
  for _, entry in ipairs(entries) do
    local id, fields = entry[1], entry[2]
    last = id
    local map = {}
    for j = 1, #fields, 2 do map[fields[j]] = fields[j + 1] end
    local rcpts = split_lines(map['r'])
    if #redis.call('XPENDING', stream, GROUP, id, id, 1) == 1 then
      claimed = claimed + 1
      claimed_rcpts = claimed_rcpts + #rcpts
    else
      redis.call('XACK', stream, GROUP, id)
      redis.call('XDEL', stream, id)
      removed = removed + 1
      removed_rcpts = removed_rcpts + #rcpts
      local k = {msg = msg_stem .. map['q'], body = body_stem .. map['q'], depth = keys[3], events = keys[4]}
      deleted = deleted + finalize(k, map['q'], domain, rcpts, map['n'], map['t'], kind, reply, node, time, maxlen)
    end
  end
  if redis.call('XLEN', stream) == 0 then
    redis.call('DEL', stream)
    redis.call('ZREM', ready, domain)
  end
  local next_cursor = ''
  if #entries >= limit then next_cursor = last end
  return {next_cursor, removed, removed_rcpts, claimed, claimed_rcpts, deleted}
end)

-- hka_remove_deferred
--   KEYS: deferred, events, then per member: depth:<pool>, msg:<qid>, body:<qid> (of
--         that member)
--   ARGV: kind, reply, node, events_maxlen, member...
-- Removes the given deferred members (those still deferred) and finalizes their
-- recipients. Returns {items, recipients, messages_deleted}.
redis.register_function('hka_remove_deferred', function(keys, args)
  local deferred, events = keys[1], keys[2]
  local kind, reply, node, maxlen = args[1], args[2], args[3], args[4]
  local time = iso8601(now_ms())
  local items, rcpts, deleted = 0, 0, 0
  for i = 5, #args do
    local member = args[i]
    local base = 3 * (i - 5) + 3
    if redis.call('ZSCORE', deferred, member) then
      local m = parse_member(member)
      local list = split_lines(m.rcpts)
      redis.call('ZREM', deferred, member)
      items = items + 1
      rcpts = rcpts + #list
      local k = {depth = keys[base], msg = keys[base + 1], body = keys[base + 2], events = events}
      deleted = deleted + finalize(k, m.qid, m.domain, list, m.attempts, m.accepted, kind, reply, node, time, maxlen)
    end
  end
  return {items, rcpts, deleted}
end)
