#!lua name=hikyaku
-- The queue's atomic steps (Redis Functions, Redis >= 7.0). Each step is one FCALL: one
-- round trip, atomic, and replicated/persisted as a unit, so an accepted message is either
-- wholly in Redis or not at all, an outcome is recorded in the same step that acknowledges
-- the work, and a rate-limit decision is exact however many workers ask at once.
--
-- Every key a function touches is passed in KEYS (built by QueueKeys.swift), except the
-- few whose names depend on what the call itself reads; those are listed in
-- docs/KEY-LAYOUT.md and built from a stem the caller passes in ARGV.
--
-- Embedded into the binary by scripts/generate-lua.py (Generated/LuaLibraries.swift);
-- every connection loads this code if Redis holds another (FunctionLibraries.swift).

local GROUP = 'workers'
-- An idle time (ms, ten years) beyond any claim timeout: entries given it are takeable.
local LONG_IDLE_MS = 315360000000

local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- `text` with every `from` replaced by `to`, both taken literally (not as patterns).
local function replace_plain(text, from, to)
  local out, start = {}, 1
  while true do
    local a, b = string.find(text, from, start, true)
    if not a then break end
    out[#out + 1] = string.sub(text, start, a - 1)
    out[#out + 1] = to
    start = b + 1
  end
  out[#out + 1] = string.sub(text, start)
  return table.concat(out)
end

-- A JSON string literal of `text` (quotes, backslashes and control characters escaped).
local function json_string(text)
  local escaped = string.gsub(text, '[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == '\\' then return '\\\\' end
    return string.format('\\u%04x', string.byte(c))
  end)
  return '"' .. escaped .. '"'
end

-- The reason `address` is suppressed by one of `lists` ({hash, expiry zset} pairs), or
-- nil. An entry whose expiry has passed no longer counts, swept or not. Addresses are
-- compared with ASCII letters lower-cased (as SuppressionEntry.normalize does).
local function suppression_reason(lists, address, now_ms)
  local lower = string.lower(address)
  for _, l in ipairs(lists) do
    local entry = redis.call('HGET', l[1], lower)
    if entry then
      local expiry = redis.call('ZSCORE', l[2], lower)
      if not expiry or tonumber(expiry) > now_ms then
        local ok, decoded = pcall(cjson.decode, entry)
        if ok and type(decoded) == 'table' and type(decoded.reason) == 'string' then return decoded.reason end
        return 'manual'
      end
    end
  end
  return nil
end

-- Leaves one token in the pool's wake list (`wake:<pool>`) unless one is there already, so
-- a burst of wakes costs one element. An idle worker blocks on that list (BLPOP), and a
-- token wakes exactly one of them.
local function wake_one(wake)
  if redis.call('LLEN', wake) == 0 then redis.call('RPUSH', wake, '1') end
end

-- Scores `domain` in the pool's ready index, waking an idle worker when the score is
-- sooner than anything the index held. An idle worker sleeps until the soonest score it
-- saw or a token, whichever comes first, so only a sooner score needs a token.
local function make_due(ready, wake, score, domain)
  local first = redis.call('ZRANGE', ready, 0, 0, 'WITHSCORES')
  if #first == 0 or score < tonumber(first[2]) then wake_one(wake) end
  redis.call('ZADD', ready, score, domain)
end

-- One entry per (message, domain) in the domain's stream, and the domain in the pool's
-- ready index.
local function add_work(stream, ready, wake, domain, fields, now_ms)
  -- NOMKSTREAM: no entry (nil) when the stream is gone (hk_complete deletes an empty one),
  -- which is then made with its group; one call instead of EXISTS + XADD.
  if not redis.call('XADD', stream, 'NOMKSTREAM', '*', unpack(fields)) then
    redis.call('XGROUP', 'CREATE', stream, GROUP, '0', 'MKSTREAM')
    redis.call('XADD', stream, '*', unpack(fields))
  end
  -- A destination without a score becomes due now; one that has a score keeps it — it
  -- is resting for a reason (a rate-limit or suspension wait, or a moment for more mail
  -- to gather into the next batch), and new mail must not undo that.
  if not redis.call('ZSCORE', ready, domain) then make_due(ready, wake, now_ms, domain) end
end

-- GCRA (generic cell rate algorithm) with microsecond time. A cell may pass at `now`
-- when max(tat, now) - now <= tau, tau = interval * (burst - 1); taking k cells moves
-- tat to max(tat, now) + k * interval. Returns how many of `wanted` may pass now and,
-- when none may, the microseconds until one may.
local function gcra_available(key, now, interval, burst, wanted)
  if interval <= 0 then return wanted, 0 end
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  local tau = interval * (burst - 1)
  local slack = now + tau - tat
  if slack < 0 then return 0, -slack end
  local n = math.floor(slack / interval) + 1
  if n > wanted then n = wanted end
  return n, 0
end

-- Charges `count` cells (count > 0), or refunds cells charged earlier (count < 0: a
-- claim that took fewer messages than its limits step charged). A refund moves tat back by
-- as much as the charge moved it forward, so charge-then-refund leaves the state a charge
-- of the difference would have; tat at or before now is the same as no key.
local function gcra_move(key, now, interval, count)
  if interval <= 0 or count == 0 then return end
  local tat = tonumber(redis.call('GET', key) or '0')
  if count > 0 and tat < now then tat = now end
  tat = tat + interval * count
  if tat <= now then
    redis.call('DEL', key)
    return
  end
  redis.call('SET', key, string.format('%d', tat), 'PX', math.floor((tat - now) / 1000) + 60000)
end

-- hk_enqueue
--   KEYS: msg:<qid>, body:<qid>, tmp:<qid>, ready:<pool>, depth:<pool>, events, wake:<pool>,
--         q:<pool>:<domain> for each domain (in ARGV order),
--         sup:<account>, supx:<account>, sup:@global, supx:@global (without an account,
--         the global pair twice)
--   ARGV: deadline_ms, qid, streamed (1: the body is in tmp:), body, events_maxlen,
--         accepted_event, pool, nfields, (field, value)..., ndomains,
--         (domain, nrcpt, rcpt...)..., account, hourly_quota, daily_quota, quota_stem,
--         suppressed_event (JSON with the placeholders "%RCPT%" and "%REASON%"),
--         nrix, rix_ttl_s, (field, value)... (the VERP recipient index; KEYS then has
--         rix:<qid>, expiring after rix_ttl_s unless hk_complete sets a sooner expiry),
--         once_bit (-1: none; else KEYS ends with camp:<id>:done, camp:<id>:stats)
-- once_bit makes a campaign row's enqueue happen at most once, whatever crashes: the bit of
-- the campaign's done bitmap is checked (`ONCE row already enqueued`, nothing written) and
-- set in this same step, with the campaign's `queued` and `suppressed` counters; an
-- all-suppressed row sets it too (it is settled).
-- Refuses (without writing anything) once Redis's clock has passed the deadline, so a
-- write that arrives after the client was told 451 cannot become a ghost message; and
-- when the account's recipients this clock hour / UTC day would exceed its quota (-1:
-- none), with `QUOTA hourly|daily <limit> <retry_after_s>`.
-- The suppression lists are the authority (two ingest nodes agree, whatever each saw at
-- RCPT): a recipient on either list (and not expired) is dropped here with a `suppressed`
-- event and counts for neither quota nor `remaining`. If none is left: the events, and
-- `SUPPRESSED all recipients are suppressed`. Returns {accepted_ms, (address, reason)...}
-- for the dropped recipients.
-- Keys built here: the quota counters `<quota_stem>h:<hour>` and `<quota_stem>d:<day>`,
-- whose hour and day are Redis's (TIME), not the caller's.
redis.register_function('hk_enqueue', function(keys, args)
  local msg, bodykey, tmp, ready, depth, events, wake = keys[1], keys[2], keys[3], keys[4], keys[5], keys[6], keys[7]
  local deadline, qid, streamed, body = tonumber(args[1]), args[2], args[3] == '1', args[4]
  local maxlen, accepted, pool = args[5], args[6], args[7]
  local now = math.floor(now_us() / 1000)
  if now > deadline then
    return redis.error_reply('DEADLINE enqueue arrived after its deadline')
  end
  local i = 8
  local nfields = tonumber(args[i]); i = i + 1
  local hash = {'pool', pool}
  for _ = 1, nfields do
    hash[#hash + 1] = args[i]; hash[#hash + 1] = args[i + 1]; i = i + 2
  end
  local ndomains = tonumber(args[i]); i = i + 1
  local work = {}
  local total = 0
  for d = 1, ndomains do
    local n = tonumber(args[i + 1])
    work[d] = {stream = keys[7 + d], domain = args[i], rcpts = table.concat(args, '\n', i + 2, i + 1 + n)}
    i = i + 2 + n
    total = total + n
  end
  local account, hourly, daily = args[i], tonumber(args[i + 1] or '-1'), tonumber(args[i + 2] or '-1')
  local quota_stem, suppressed_event = args[i + 3], args[i + 4]
  local once_bit, once_key, once_stats = -1, nil, nil
  do
    local nrix = tonumber(args[i + 5] or '0')
    local j = nrix > 0 and (i + 7 + 2 * nrix) or (i + 6)
    once_bit = tonumber(args[j] or '-1')
    if once_bit >= 0 then
      once_key, once_stats = keys[#keys - 1], keys[#keys]
      if redis.call('GETBIT', once_key, once_bit) == 1 then
        return redis.error_reply('ONCE row already enqueued')
      end
    end
  end
  local function settle_once(queued, suppressed)
    if not once_key then return end
    redis.call('SETBIT', once_key, once_bit, 1)
    if queued > 0 then redis.call('HINCRBY', once_stats, 'queued', queued) end
    if suppressed > 0 then redis.call('HINCRBY', once_stats, 'suppressed', suppressed) end
  end
  local lists = {{keys[8 + ndomains], keys[9 + ndomains]}}
  if keys[10 + ndomains] ~= keys[8 + ndomains] then lists[2] = {keys[10 + ndomains], keys[11 + ndomains]} end
  local dropped = {}
  total = 0
  for _, w in ipairs(work) do
    local kept = {}
    for r in string.gmatch(w.rcpts, '[^\n]+') do
      local reason = suppression_reason(lists, r, now)
      if reason then
        dropped[#dropped + 1] = {r, reason}
      else
        kept[#kept + 1] = r
      end
    end
    w.rcpts = table.concat(kept, '\n')
    w.count = #kept
    total = total + #kept
  end
  local quota_keys = {}
  if account and account ~= '' then
    local hour, day = math.floor(now / 3600000), math.floor(now / 86400000)
    for _, q in ipairs({{'hourly', hourly, quota_stem .. 'h:' .. hour, (hour + 1) * 3600},
                        {'daily', daily, quota_stem .. 'd:' .. day, (day + 1) * 86400}}) do
      if q[2] >= 0 then
        local used = tonumber(redis.call('GET', q[3]) or '0')
        if used + total > q[2] then
          return redis.error_reply(string.format('QUOTA %s %d %d', q[1], q[2], q[4] - math.floor(now / 1000)))
        end
      end
      -- Counted with or without a quota, for `hikyaku account show`.
      quota_keys[#quota_keys + 1] = {q[3], q[4]}
    end
  end
  if redis.call('EXISTS', msg) == 1 then
    return redis.error_reply('EXISTS queue id already used')
  end
  local function write_suppressed()
    local out = {now}
    for _, d in ipairs(dropped) do
      local event = replace_plain(replace_plain(suppressed_event, '"%RCPT%"', json_string(d[1])), '"%REASON%"', json_string(d[2]))
      redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'e', event)
      out[#out + 1] = d[1]; out[#out + 1] = d[2]
    end
    return out
  end
  if total == 0 then
    settle_once(0, #dropped)
    write_suppressed()
    return redis.error_reply('SUPPRESSED all recipients are suppressed')
  end
  if streamed then
    if redis.call('EXISTS', tmp) == 0 then
      return redis.error_reply('NOBODY streamed body is missing (expired?)')
    end
    redis.call('RENAME', tmp, bodykey)
    redis.call('PERSIST', bodykey)
  else
    redis.call('SET', bodykey, body)
  end
  for _, q in ipairs(quota_keys) do
    redis.call('INCRBY', q[1], total)
    redis.call('EXPIREAT', q[1], q[2] + 3600)
  end
  for _, w in ipairs(work) do
    if w.count > 0 then
      add_work(w.stream, ready, wake, w.domain, {'q', qid, 'r', w.rcpts, 'n', '0', 't', tostring(now)}, now)
    end
  end
  -- VERP: the recipient index a bounce's token is resolved against (hk_complete expires it).
  -- It lists every recipient, the suppressed ones too: a token's index is a position in it.
  local nrix = tonumber(args[i + 5] or '0')
  if nrix > 0 then
    local rix = {}
    for j = i + 7, i + 6 + 2 * nrix do rix[#rix + 1] = args[j] end
    redis.call('HSET', keys[12 + ndomains], unpack(rix))
    redis.call('EXPIRE', keys[12 + ndomains], tonumber(args[i + 6]))
  end
  hash[#hash + 1] = 'remaining'; hash[#hash + 1] = tostring(total)
  hash[#hash + 1] = 'accepted'; hash[#hash + 1] = tostring(now)
  redis.call('HSET', msg, unpack(hash))
  redis.call('INCRBY', depth, total)
  redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'e', accepted)
  settle_once(total, #dropped)
  return write_suppressed()
end)

-- The pseudo-consumer whose pending list holds the entries parked for an egress IP.
local PIN_PREFIX = '@pin:'

-- ip -> number of entries parked for it in `stream` (XPENDING summary: per consumer).
local function parked_by_ip(stream)
  local parked = {}
  local summary = redis.call('XPENDING', stream, GROUP)
  for _, pair in ipairs(summary[4] or {}) do
    if string.sub(pair[1], 1, #PIN_PREFIX) == PIN_PREFIX then
      parked[string.sub(pair[1], #PIN_PREFIX + 1)] = tonumber(pair[2])
    end
  end
  return parked
end

-- hk_next
--   KEYS: ready:<pool>, wake:<pool>
--   ARGV: hold_ms, pass_on (1: the caller has no idle loop left to look for more),
--         [stream_stem (prefix of q:<pool>:): also name the IPs with entries parked]
-- The first domain of the pool due now, held for `hold_ms` (so other workers move on
-- while this one looks up its site and asks hk_claim). Returns {domain} or
-- {'', next_due_ms | -1}. With pass_on, when another domain is due too, leaves a wake
-- token so an idle loop of another worker takes it. With stream_stem (a worker whose
-- limit keys have a slot of their own, so hk_claim_limits cannot read the stream), the
-- reply goes on with the egress IPs that have entries of the domain parked for them.
-- Keys built here: q:<pool>:<domain> of the domain found (known only once read).
redis.register_function('hk_next', function(keys, args)
  local ready, wake, hold = keys[1], keys[2], tonumber(args[1])
  local now = math.floor(now_us() / 1000)
  local due = redis.call('ZRANGE', ready, '-inf', now, 'BYSCORE', 'LIMIT', 0, 2)
  if #due == 0 then
    local first = redis.call('ZRANGE', ready, 0, 0, 'WITHSCORES')
    if #first == 0 then return {'', -1} end
    return {'', math.floor(tonumber(first[2]))}
  end
  redis.call('ZADD', ready, now + hold, due[1])
  if #due > 1 and args[2] == '1' then wake_one(wake) end
  local out = {due[1]}
  local stream_stem = args[3]
  if stream_stem then
    local stream = stream_stem .. due[1]
    if redis.call('EXISTS', stream) == 1 then
      for ip, _ in pairs(parked_by_ip(stream)) do out[#out + 1] = ip end
    end
  end
  return out
end)

-- hk_wake
--   KEYS: wake:<pool>
-- Leaves a wake token for an idle worker of the pool (one at most): a worker passes on a
-- token it took while none of its loops was idle.
redis.register_function('hk_wake', function(keys, args)
  wake_one(keys[1])
  return 1
end)

-- Up to `count` entries parked for `ip`, moved to `consumer`: {id, fields} like XREADGROUP.
local function take_parked(stream, consumer, ip, count)
  local pending = redis.call('XPENDING', stream, GROUP, '-', '+', count, PIN_PREFIX .. ip)
  if #pending == 0 then return {} end
  local command = {'XCLAIM', stream, GROUP, consumer, 0}
  for _, p in ipairs(pending) do command[#command + 1] = p[1] end
  local taken = {}
  for _, entry in ipairs(redis.call(unpack(command))) do
    if entry then taken[#taken + 1] = entry end
  end
  return taken
end

-- The value of `name` in a stream entry's flat field list, or nil.
local function entry_field(fields, name)
  for f = 1, #fields - 1, 2 do
    if fields[f] == name then return fields[f + 1] end
  end
  return nil
end

-- A claim has two halves. The limits half (claim_decide, claim_charge, claim_lease) reads
-- and charges the site's and the egress IPs' limit keys; the entries half (claim_take,
-- claim_rescore) takes work from the destination's stream and re-scores it. hk_claim runs
-- both in one step, for a queue whose limit keys share its slot; on a Redis Cluster whose
-- limit keys have a slot of their own (`redis.limits_key_prefix`) the worker calls
-- hk_claim_limits (decide and charge the most it may take), hk_claim_entries (take at most
-- that), then hk_claim_settle (refund what was charged and not taken). A limit is charged
-- before any entry is taken and refunded only after, so however the slots are spread no
-- limit is ever exceeded; for a moment it may look more used than it is, which can only
-- make another worker wait.

-- Re-scores the destination to `now_ms + ms` and returns the claim's wait reply.
local function claim_wait(E, now_ms, ms, reason)
  if ms < 1 then ms = 1 end
  make_due(E.ready, E.wake, now_ms + ms, E.domain)
  return {'', ms, reason}
end

-- Gives back the connection lease the caller held (it closes that connection).
local function claim_give_back_held(L)
  if L.held_lease == '' then return end
  redis.call('ZREM', L.held_conn_key, L.held_lease)
  redis.call('SREM', L.leases, L.held_ip .. '|' .. L.site .. '\n' .. L.held_lease)
end

-- The limit keys and arguments of a claim. `kf`, `af`: where the per-IP keys and
-- arguments start (7 of each per IP); `site_keys`: {susp:site, gcra:site, leaseseq,
-- leases:<consumer>, egress:live}; `a`: the scalar arguments.
local function claim_limits_of(keys, kf, args, af, nips, site_keys, a)
  local L = {
    site = a.site, consumer = a.consumer, batch = a.batch, lease_ms = a.lease_ms,
    site_interval = a.site_interval, site_burst = a.site_burst,
    held_ip = a.held_ip, held_lease = a.held_lease,
    site_suspended = site_keys[1], site_key = site_keys[2], leaseseq = site_keys[3],
    leases = site_keys[4], live = site_keys[5],
    held_conn_key = keys[kf + 7 * nips], ips = {},
  }
  for c = 1, nips do
    local i, k = af + 7 * (c - 1), kf + 7 * (c - 1)
    L.ips[c] = {
      ip = args[i], max_conn = tonumber(args[i + 1]),
      ip_interval = tonumber(args[i + 2]), ip_burst = tonumber(args[i + 3]),
      conn_interval = tonumber(args[i + 4]), conn_burst = tonumber(args[i + 5]), warm_cap = tonumber(args[i + 6]),
      susp = keys[k], ipall = keys[k + 1], warm = keys[k + 2], conn = keys[k + 3],
      conn_rate = keys[k + 4], slow = keys[k + 5], rate = keys[k + 6],
    }
  end
  return L
end

-- Picks the first egress IP (IPs with entries parked for them first, then in the order
-- given) that may send to the site now, and how many it may send: {chosen, nil, nil,
-- unusable} or {nil, wait_ms, reason, unusable}. Writes nothing but expired connection
-- leases. `unusable`: IPs found suspended or out of warm-up.
local function claim_decide(L, parked, now, now_ms)
  local unusable = {}
  local suspended = redis.call('PTTL', L.site_suspended)
  if suspended > 0 then return nil, suspended, 'suspended', unusable end
  local site_avail, site_wait = gcra_available(L.site_key, now, L.site_interval, L.site_burst, L.batch)
  if site_avail == 0 then return nil, math.ceil(site_wait / 1000), 'rate_site', unusable end
  local best_wait, best_reason = nil, 'none'
  local function note(ms, reason)
    if best_wait == nil or ms < best_wait then best_wait, best_reason = ms, reason end
  end
  local order = {}
  for pass = 1, 2 do
    for c, candidate in ipairs(L.ips) do
      if (parked[candidate.ip] ~= nil) == (pass == 1) then order[#order + 1] = c end
    end
  end
  for _, c in ipairs(order) do
    local p = L.ips[c]
    local chosen
    repeat
      local ip_suspended = math.max(redis.call('PTTL', p.susp), redis.call('PTTL', p.ipall))
      if ip_suspended > 0 then note(ip_suspended, 'suspended'); unusable[p.ip] = true; break end
      local warm_left = L.batch
      if p.warm_cap >= 0 then
        warm_left = p.warm_cap - tonumber(redis.call('GET', p.warm) or '0')
        if warm_left <= 0 then note(86400000 - now_ms % 86400000, 'warmup'); unusable[p.ip] = true; break end
      end
      local reuse = L.held_lease ~= '' and p.ip == L.held_ip
      if not reuse then
        redis.call('ZREMRANGEBYSCORE', p.conn, '-inf', now_ms)
        if p.max_conn > 0 and redis.call('ZCARD', p.conn) >= p.max_conn then note(250, 'connections'); break end
        local conn_ok, conn_wait = gcra_available(p.conn_rate, now, p.conn_interval, p.conn_burst, 1)
        if conn_ok == 0 then note(math.ceil(conn_wait / 1000), 'connection_rate'); break end
      end
      local factor = tonumber(redis.call('GET', p.slow) or '1')
      local interval = p.ip_interval
      if interval > 0 and factor < 1 then interval = math.floor(interval / factor) end
      local ip_avail, ip_wait = gcra_available(p.rate, now, interval, p.ip_burst, L.batch)
      if ip_avail == 0 then note(math.ceil(ip_wait / 1000), 'rate_ip'); break end
      chosen = {ip = p.ip, n = math.min(L.batch, ip_avail, site_avail, warm_left), unit = p.ip .. '|' .. L.site,
                p = p, interval = interval, reuse = reuse, site_avail = site_avail}
    until true
    if chosen then return chosen, nil, nil, unusable end
  end
  return nil, best_wait or 1000, best_reason, unusable
end

-- Charges (count > 0) or refunds (count < 0) the chosen IP's and the site's rates and the
-- IP's warm-up count for `count` messages.
local function claim_charge(L, chosen, now, count)
  if count == 0 then return end
  gcra_move(chosen.p.rate, now, chosen.interval, count)
  gcra_move(L.site_key, now, L.site_interval, count)
  if chosen.p.warm_cap >= 0 then
    redis.call('INCRBY', chosen.p.warm, count)
    redis.call('EXPIRE', chosen.p.warm, 172800)
  end
end

-- The connection lease the batch is sent under: the held one, extended, when its IP was
-- chosen; else a new one (charging the new-connection rate) — the held one is given back
-- when `give_back_held` (the batch will be sent, so the caller closes that connection).
local function claim_lease(L, chosen, now, now_ms, give_back_held)
  local lease = L.held_lease
  if not chosen.reuse then
    gcra_move(chosen.p.conn_rate, now, chosen.p.conn_interval, 1)
    if give_back_held then claim_give_back_held(L) end
    lease = L.consumer .. '#' .. redis.call('INCR', L.leaseseq)
    -- Remembered per consumer, so a restarted worker frees what its crashed self held.
    redis.call('SADD', L.leases, chosen.unit .. '\n' .. lease)
    redis.call('PEXPIRE', L.leases, L.lease_ms)
  end
  redis.call('ZADD', chosen.p.conn, now_ms + L.lease_ms, lease)
  return lease
end

-- When the site's own rate is what limited the batch (it allowed fewer than a batch and
-- the batch took all of that), the ms at which it allows the next message; else -1.
local function claim_site_next(L, chosen, now, now_ms, taken)
  if L.site_interval > 0 and taken == chosen.site_avail and chosen.site_avail < L.batch then
    local _, after = gcra_available(L.site_key, now, L.site_interval, L.site_burst, 1)
    return now_ms + math.floor(after / 1000)
  end
  return -1
end

-- Up to `n` entries of the destination for `ip`: those parked for it and for IPs that can
-- no longer take theirs, then dead workers' entries, then new ones (entries pinned to
-- another live, usable IP are parked for it). Returns {domain, ip, '', n_taken_over,
-- {id, fields}...}, or nil (with the destination dropped or re-scored) when none.
-- E: {stream, ready, wake, scanned, consumer, idle, domain}; sets E.parked_some when it parks an entry.
local function claim_take(E, ip, n, parked, unusable, is_live, now_ms)
  local out = {E.domain, ip, '', 0}
  local function take(from)
    local room = n - (#out - 4)
    if room <= 0 then return end
    for _, entry in ipairs(take_parked(E.stream, E.consumer, from, room)) do out[#out + 1] = entry end
  end
  if parked[ip] then take(ip) end
  for other, _ in pairs(parked) do
    if other ~= ip and (unusable[other] or not is_live(other)) then take(other) end
  end
  local pinned_count = #out - 4
  -- Dead workers' entries next. A pass over the pending list goes on where the last
  -- claim left it (the cursor is kept in `scanned:`), so a dead worker's backlog is
  -- taken over a batch per claim, at full speed; after a complete pass the next one
  -- starts a quarter of the claim timeout later (takeover within 1.25 x the timeout).
  local cursor = redis.call('GET', E.scanned)
  if cursor ~= 'done' and n > #out - 4 then
    local reclaimed = redis.call('XAUTOCLAIM', E.stream, GROUP, E.consumer, E.idle, cursor or '0-0', 'COUNT', n - (#out - 4))
    for _, entry in ipairs(reclaimed[2]) do out[#out + 1] = entry end
    if reclaimed[1] == '0-0' then
      redis.call('SET', E.scanned, 'done', 'PX', math.max(100, math.floor(E.idle / 4)))
    else
      redis.call('SET', E.scanned, reclaimed[1], 'PX', math.max(100, E.idle))
    end
  end
  out[4] = #out - 4 - pinned_count
  -- New entries; those pinned to another live, usable IP are parked for it (a few reads
  -- at most, so a backlog pinned elsewhere cannot make this claim long).
  local live_cache = {}
  for _ = 1, 4 do
    local want = n - (#out - 4)
    if want <= 0 then break end
    local fresh = redis.call('XREADGROUP', 'GROUP', GROUP, E.consumer, 'COUNT', want, 'STREAMS', E.stream, '>')
    if not fresh or #fresh[1][2] == 0 then break end
    for _, entry in ipairs(fresh[1][2]) do
      local pin = entry_field(entry[2], 'p')
      if pin and pin ~= ip and not unusable[pin] then
        if live_cache[pin] == nil then live_cache[pin] = is_live(pin) end
        if not live_cache[pin] then pin = nil end
      else
        pin = nil
      end
      if pin then
        redis.call('XCLAIM', E.stream, GROUP, PIN_PREFIX .. pin, 0, entry[1], 'JUSTID')
        E.parked_some = true
      else
        out[#out + 1] = entry
      end
    end
  end
  if #out > 4 then return out end
  if redis.call('XLEN', E.stream) == 0 then
    redis.call('DEL', E.stream)
    redis.call('ZREM', E.ready, E.domain)
    return nil, {'', 0, 'empty'}
  end
  -- Everything left is claimed by live workers: look again shortly — new mail may
  -- arrive meanwhile (enqueue does not advance a domain already in the index), and
  -- their claims may lapse.
  return nil, claim_wait(E, now_ms, math.min(E.idle, 100), 'claimed')
end


-- Re-scores the destination after a batch of `got` of the `n` it was allowed.
local function claim_rescore(E, got, n, site_next_ms, gather, now_ms)
  if got < n then
    -- This batch took everything there was: let new mail gather for a moment so the
    -- next batch carries more than one message (a steady stream costs one claim per
    -- `gather_ms`, not one per message).
    make_due(E.ready, E.wake, now_ms + gather, E.domain)
  elseif site_next_ms >= 0 then
    -- The site's own rate is what stopped this batch: no IP may send before it allows.
    make_due(E.ready, E.wake, site_next_ms, E.domain)
  else
    -- There may be more, and other IPs (of this or other workers) may be free to send
    -- it now: leave the domain due; a worker whose IPs are all limited re-scores it.
    make_due(E.ready, E.wake, now_ms, E.domain)
  end
end

-- hk_claim
--   KEYS: ready:<pool>, q:<pool>:<domain>, susp:site:<site>, gcra:site:<site>,
--         scanned:<pool>:<domain>, leaseseq, leases:<consumer>, wake:<pool>, egress:live,
--         then per candidate IP: susp:ip:<unit>, susp:ipall:<ip>, warm:<ip>:<day>,
--         conn:<unit>, gcra:conn:<unit>, slow:<unit>, gcra:ip:<unit>,
--         then, when a connection is held, conn:<held ip>|<site>
--   ARGV: domain, site, consumer, batch, claim_timeout_ms, lease_ms, site_interval_us,
--         site_burst, gather_ms, held_ip, held_lease, nips,
--         (ip, max_conn, ip_interval_us, ip_burst, conn_interval_us, conn_burst, warm_cap)...
-- Picks the first egress IP (in the order given) that may send to the site now — not
-- suspended, under its warm-up cap, with a free connection lease and room in the
-- (IP, site), site and new-connection rates — takes a lease, claims as many entries as
-- the limits allow (entries of dead workers first, then new ones) and charges the
-- limits for them. On success returns {domain, ip, lease, n_taken_over, {id, fields}...};
-- when nothing may be sent now, re-scores the domain to when something may and returns
-- {'', wait_ms, reason}.
-- Pinned retries (greylisting, see Sources/Delivery/Shaping/GreylistRetry.swift): an entry
-- with field `p` wants to be sent from egress IP p. A claim from another IP that reads it
-- parks it instead — moves it (XCLAIM) to the pending list of the pseudo-consumer
-- `@pin:<p>` — when p is live (in `egress:live`, kept by the worker that has it) and not
-- found suspended or out of warm-up by this claim; otherwise it is sent from any IP. IPs
-- with parked entries are tried first, and a claim from IP x takes `@pin:<x>`'s entries
-- before anything else, and the entries parked for IPs that are gone or unusable. Parked
-- entries are pending like any claimed entry, so the takeover (XAUTOCLAIM) hands them to
-- any IP once they have waited a claim timeout: that bounds the pin.
-- held_ip/held_lease (or ''): the caller still has a connection open from held_ip to
-- this destination under that lease. If held_ip is chosen the connection is reused:
-- neither the connection count nor the new-connection rate applies, and the same lease
-- is extended and returned. If another IP is chosen the held lease is given back (the
-- caller closes that connection). When nothing may be sent the lease is kept: the caller
-- either waits with the connection open or releases it with hk_release.
redis.register_function('hk_claim', function(keys, args)
  local nips = tonumber(args[12])
  local L = claim_limits_of(keys, 10, args, 13, nips, {keys[3], keys[4], keys[6], keys[7], keys[9]}, {
    site = args[2], consumer = args[3], batch = tonumber(args[4]), lease_ms = tonumber(args[6]),
    site_interval = tonumber(args[7]), site_burst = tonumber(args[8]), held_ip = args[10], held_lease = args[11]})
  local E = {ready = keys[1], stream = keys[2], scanned = keys[5], wake = keys[8], consumer = args[3],
             idle = tonumber(args[5]), domain = args[1]}
  local gather = tonumber(args[9])
  local now = now_us()
  local now_ms = math.floor(now / 1000)
  if redis.call('EXISTS', E.stream) == 0 then
    redis.call('ZREM', E.ready, E.domain)
    return {'', 0, 'empty'}
  end
  local parked = parked_by_ip(E.stream)
  local chosen, wait_ms, reason, unusable = claim_decide(L, parked, now, now_ms)
  if not chosen then return claim_wait(E, now_ms, wait_ms, reason) end
  local function is_live(ip)
    local expiry = redis.call('ZSCORE', L.live, ip)
    return expiry ~= false and tonumber(expiry) > now_ms
  end
  local out, waiting = claim_take(E, chosen.ip, chosen.n, parked, unusable, is_live, now_ms)
  if not out then return waiting end
  local got = #out - 4
  claim_charge(L, chosen, now, got)
  out[3] = claim_lease(L, chosen, now, now_ms, true)
  claim_rescore(E, got, chosen.n, claim_site_next(L, chosen, now, now_ms, got), gather, now_ms)
  return out
end)

-- hk_claim_limits: the limits half of a claim whose limit keys have a slot of their own.
--   KEYS: susp:site:<site>, gcra:site:<site>, leaseseq, leases:<consumer>, egress:live,
--         then per candidate IP the seven keys of hk_claim, then, when a connection is
--         held, conn:<held ip>|<site>
--   ARGV: site, consumer, batch, lease_ms, site_interval_us, site_burst, held_ip,
--         held_lease, nparked, parked_ip..., nips, (ip, ... as hk_claim)...
-- Decides as hk_claim does (`parked_ip`: the IPs with entries parked for them, from
-- hk_next) and charges the limits for the most the batch may take, taking a connection
-- lease (the held one is kept until hk_claim_settle). Returns {ip, n, lease, site_next_ms,
-- ip_interval_us (as charged, after the slowdown factor), nunusable, unusable_ip...,
-- live_ip...} (`live_ip`: egress:live now), or {'', wait_ms, reason}.
redis.register_function('hk_claim_limits', function(keys, args)
  local nparked = tonumber(args[9])
  local parked = {}
  for p = 10, 9 + nparked do parked[args[p]] = true end
  local nips = tonumber(args[10 + nparked])
  local L = claim_limits_of(keys, 6, args, 11 + nparked, nips, {keys[1], keys[2], keys[3], keys[4], keys[5]}, {
    site = args[1], consumer = args[2], batch = tonumber(args[3]), lease_ms = tonumber(args[4]),
    site_interval = tonumber(args[5]), site_burst = tonumber(args[6]), held_ip = args[7], held_lease = args[8]})
  local now = now_us()
  local now_ms = math.floor(now / 1000)
  local chosen, wait_ms, reason, unusable = claim_decide(L, parked, now, now_ms)
  if not chosen then return {'', math.max(1, wait_ms), reason} end
  claim_charge(L, chosen, now, chosen.n)
  local lease = claim_lease(L, chosen, now, now_ms, false)
  local out = {chosen.ip, chosen.n, lease, claim_site_next(L, chosen, now, now_ms, chosen.n), chosen.interval, 0}
  for ip, _ in pairs(unusable) do out[#out + 1] = ip; out[6] = out[6] + 1 end
  for _, ip in ipairs(redis.call('ZRANGE', L.live, '(' .. now_ms, '+inf', 'BYSCORE')) do out[#out + 1] = ip end
  return out
end)

-- hk_claim_entries: the entries half of a claim whose limit keys have a slot of their own.
--   KEYS: ready:<pool>, q:<pool>:<domain>, scanned:<pool>:<domain>, wake:<pool>
--   ARGV: domain, consumer, claim_timeout_ms, gather_ms, ip ('' when the limits allow
--         nothing), n | wait_ms, site_next_ms | reason, nunusable, unusable_ip...,
--         live_ip...
-- Takes at most `n` entries for `ip` as hk_claim does, or re-scores the destination by the
-- limits' wait. Returns {hk_claim's reply, {ip with entries parked for it...}} (the
-- latter for the caller's next hk_claim_limits); the caller settles with hk_claim_settle.
redis.register_function('hk_claim_entries', function(keys, args)
  local E = {ready = keys[1], stream = keys[2], scanned = keys[3], wake = keys[4], consumer = args[2],
             idle = tonumber(args[3]), domain = args[1]}
  local gather, ip = tonumber(args[4]), args[5]
  local now_ms = math.floor(now_us() / 1000)
  if redis.call('EXISTS', E.stream) == 0 then
    redis.call('ZREM', E.ready, E.domain)
    return {{'', 0, 'empty'}, {}}
  end
  if ip == '' then return {claim_wait(E, now_ms, tonumber(args[6]), args[7]), {}} end
  local n, site_next_ms = tonumber(args[6]), tonumber(args[7])
  local nunusable = tonumber(args[8])
  local unusable, live = {}, {}
  for u = 9, 8 + nunusable do unusable[args[u]] = true end
  for l = 9 + nunusable, #args do live[args[l]] = true end
  local function is_live(other) return live[other] == true end
  local parked = parked_by_ip(E.stream)
  local out, waiting = claim_take(E, ip, n, parked, unusable, is_live, now_ms)
  if not out then return {waiting, {}} end
  claim_rescore(E, #out - 4, n, site_next_ms, gather, now_ms)
  -- Entries can still be parked only if some were before or this claim parked some.
  local still = {}
  if next(parked) ~= nil or E.parked_some then
    for other, _ in pairs(parked_by_ip(E.stream)) do still[#still + 1] = other end
  end
  return {out, still}
end)

-- hk_claim_settle: after hk_claim_entries, refunds what hk_claim_limits charged and the
-- batch did not take.
--   KEYS: gcra:site:<site>, leases:<consumer>, and of the chosen IP: gcra:ip:<unit>,
--         warm:<ip>:<day>, conn:<unit>, gcra:conn:<unit>, then, when a connection was
--         held, conn:<held ip>|<site>
--   ARGV: site, ip, charged, taken, site_interval_us, ip_interval_us (as charged, after
--         the slowdown factor), conn_interval_us, warm_cap, lease, held_ip, held_lease
-- With nothing taken, a new lease is given back (and its new-connection charge refunded);
-- with something taken, a held lease of another IP is given back (the caller closes
-- that connection).
redis.register_function('hk_claim_settle', function(keys, args)
  local site, ip, charged, taken = args[1], args[2], tonumber(args[3]), tonumber(args[4])
  local lease, held_ip, held_lease = args[9], args[10], args[11]
  local L = {site_key = keys[1], site_interval = tonumber(args[5]), leases = keys[2], held_conn_key = keys[7],
             held_ip = held_ip, held_lease = held_lease, site = site}
  local chosen = {p = {rate = keys[3], warm = keys[4], conn = keys[5], conn_rate = keys[6],
                       warm_cap = tonumber(args[8]), conn_interval = tonumber(args[7])},
                  interval = tonumber(args[6])}
  local now = now_us()
  claim_charge(L, chosen, now, taken - charged)
  local reused = held_lease ~= '' and lease == held_lease
  if not reused then
    if taken == 0 then
      gcra_move(chosen.p.conn_rate, now, chosen.p.conn_interval, -1)
      redis.call('ZREM', chosen.p.conn, lease)
      redis.call('SREM', L.leases, ip .. '|' .. site .. '\n' .. lease)
    elseif held_lease ~= '' then
      claim_give_back_held(L)
    end
  end
  return 1
end)

-- hk_release
--   KEYS: conn:<unit>, leases:<consumer of the lease>
--   ARGV: unit, lease
-- Gives a connection lease back.
redis.register_function('hk_release', function(keys, args)
  redis.call('SREM', keys[2], args[1] .. '\n' .. args[2])
  return redis.call('ZREM', keys[1], args[2])
end)

-- hk_refresh
--   KEYS: q:<pool>:<domain>, conn:<unit>, leases:<consumer> (only q: when lease is '')
--   ARGV: consumer, lease, lease_ms, id...
-- Keeps a long batch's claims and its connection lease fresh. Where the limit keys have a
-- slot of their own the lease is renewed by hk_refresh_lease instead.
redis.register_function('hk_refresh', function(keys, args)
  local stream, conn, leases = keys[1], keys[2], keys[3]
  local consumer, lease, lease_ms = args[1], args[2], tonumber(args[3])
  -- unpack() must come last in a call's arguments (elsewhere Lua passes only its first value).
  local command = {'XCLAIM', stream, GROUP, consumer, 0}
  for i = 4, #args do command[#command + 1] = args[i] end
  command[#command + 1] = 'JUSTID'
  if #command > 6 and redis.call('EXISTS', stream) == 1 then
    redis.call(unpack(command))
  end
  if lease ~= '' then
    redis.call('ZADD', conn, 'XX', math.floor(now_us() / 1000) + lease_ms, lease)
    redis.call('PEXPIRE', leases, lease_ms)
  end
  return #command - 6
end)

-- hk_refresh_lease
--   KEYS: conn:<unit>, leases:<consumer>
--   ARGV: lease, lease_ms
-- hk_refresh's lease half, for limit keys in a slot of their own.
redis.register_function('hk_refresh_lease', function(keys, args)
  redis.call('ZADD', keys[1], 'XX', math.floor(now_us() / 1000) + tonumber(args[2]), args[1])
  redis.call('PEXPIRE', keys[2], tonumber(args[2]))
  return 1
end)

-- hk_node_acquire
--   KEYS: node:<name>
--   ARGV: token, ttl_ms, dead_holder
-- Takes the identity for the process `token` if nobody holds it, or if it is held by
-- `dead_holder` (a token the caller found to be of a dead process; '' for none).
-- Returns {1} when taken, else {0, holder, remaining_ms}.
redis.register_function('hk_node_acquire', function(keys, args)
  local key = keys[1]
  local token, ttl, dead = args[1], tonumber(args[2]), args[3]
  local holder = redis.call('GET', key)
  if holder == false or holder == token or (dead ~= '' and holder == dead) then
    redis.call('SET', key, token, 'PX', ttl)
    return {1}
  end
  return {0, holder, redis.call('PTTL', key)}
end)

-- hk_node_renew
--   KEYS: node:<name>
--   ARGV: token, ttl_ms
-- Extends the identity lease. Returns 1 when renewed, 2 when it had lapsed (Redis was
-- out of reach) and was free to take again, 0 when another process holds it now.
redis.register_function('hk_node_renew', function(keys, args)
  local key = keys[1]
  local token, ttl = args[1], tonumber(args[2])
  local holder = redis.call('GET', key)
  if holder == token then redis.call('PEXPIRE', key, ttl); return 1 end
  if holder == false then redis.call('SET', key, token, 'PX', ttl); return 2 end
  return 0
end)

-- hk_node_release
--   KEYS: node:<name>
--   ARGV: token
-- Gives the identity back (graceful stop).
redis.register_function('hk_node_release', function(keys, args)
  if redis.call('GET', keys[1]) == args[1] then return redis.call('DEL', keys[1]) end
  return 0
end)

-- hk_egress_live
--   KEYS: egress:live
--   ARGV: ttl_ms (0: remove), ip...
-- Marks a worker's egress IPs live for ttl_ms (renewed with its identity), or removes
-- them (graceful stop); drops IPs whose time has passed. A retry pinned to an IP waits for
-- it only while it is live (hk_claim).
redis.register_function('hk_egress_live', function(keys, args)
  local live, ttl = keys[1], tonumber(args[1])
  local now_ms = math.floor(now_us() / 1000)
  redis.call('ZREMRANGEBYSCORE', live, '-inf', now_ms)
  for i = 2, #args do
    if ttl > 0 then redis.call('ZADD', live, now_ms + ttl, args[i]) else redis.call('ZREM', live, args[i]) end
  end
  return #args - 1
end)

-- hk_recover_leases
--   KEYS: leases:<consumer>
--   ARGV: conn_stem (the prefix of conn:<unit>)
-- Frees the connection leases a crashed earlier run of this identity held (they would
-- otherwise count against the sites' connection limits until they expire). Returns how
-- many. Keys built here: conn:<unit> of each member of the set (known only once read).
redis.register_function('hk_recover_leases', function(keys, args)
  local set, conn_stem = keys[1], args[1]
  local freed = 0
  for _, member in ipairs(redis.call('SMEMBERS', set)) do
    local unit, lease = string.match(member, '^(.*)\n(.*)$')
    if unit then freed = freed + redis.call('ZREM', conn_stem .. unit, lease) end
  end
  redis.call('DEL', set)
  return freed
end)

-- hk_recover
--   KEYS: ready:<pool>, then per domain: q:<pool>:<domain>, scanned:<pool>:<domain>
--   ARGV: consumer, domain... (in KEYS order)
-- Makes the entries a crashed earlier run of this identity had claimed in these
-- destinations takeable at once: they are marked idle "forever" (XCLAIM ... IDLE, not
-- counted as a delivery) so the next hk_claim's XAUTOCLAIM takes them without waiting for
-- the claim timeout, and the destination is made due now. Returns how many entries.
redis.register_function('hk_recover', function(keys, args)
  local ready, consumer = keys[1], args[1]
  local now_ms = math.floor(now_us() / 1000)
  local total = 0
  for d = 2, #args do
    local domain = args[d]
    local stream, scanned = keys[2 * d - 2], keys[2 * d - 1]
    local found = 0
    if redis.call('EXISTS', stream) == 1 then
      local start = '-'
      while true do
        local pending = redis.call('XPENDING', stream, GROUP, start, '+', 500, consumer)
        if #pending == 0 then break end
        local command = {'XCLAIM', stream, GROUP, consumer, 0}
        for _, p in ipairs(pending) do command[#command + 1] = p[1] end
        command[#command + 1] = 'IDLE'
        command[#command + 1] = LONG_IDLE_MS
        command[#command + 1] = 'JUSTID'
        redis.call(unpack(command))
        found = found + #pending
        if #pending < 500 then break end
        start = '(' .. pending[#pending][1]
      end
    end
    if found > 0 then
      redis.call('DEL', scanned)
      redis.call('ZADD', ready, now_ms, domain)
      total = total + found
    end
  end
  return total
end)

-- hk_complete
--   KEYS: q:<pool>:<domain>, ready:<pool>, deferred, depth:<pool>, events, acct:version,
--         then per entry: msg:<qid>, body:<qid>, rix:<qid>, and acct:<account>:paused
--         when the entry has an account
--   ARGV: consumer, domain, events_maxlen, bounce_threshold_permille, bounce_min_volume,
--         bounce_window_hours, pause_event, bounces_stem, rix_ttl_s, complaint_window_hours,
--         nentries,
--         (entry_id, nfinal, defer_member, defer_due, account, ndelivered, nbounced,
--          nevents, event...)...
-- Records outcomes and acknowledges the entries in one atomic step. Per account it
-- counts delivered and hard-bounced recipients by the hour; when the bounces over the
-- last `bounce_window_hours` exceed the threshold (with at least `bounce_min_volume`
-- final outcomes), the account is paused and `pause_event` (with its rate filled in
-- for `%RATE%`) is written. Threshold 0 turns this off.
-- A message's VERP recipient index outlives it by `rix_ttl_s` (bounces.window).
-- Keys built here: `<bounces_stem><account>:<hour>` for the hours of the window, which
-- are Redis's (TIME).
redis.register_function('hk_complete', function(keys, args)
  local stream, ready, deferred, depth, events, version = keys[1], keys[2], keys[3], keys[4], keys[5], keys[6]
  local consumer, domain, maxlen = args[1], args[2], args[3]
  local threshold, min_volume, window = tonumber(args[4]), tonumber(args[5]), tonumber(args[6])
  local pause_event, bounces_stem, rix_ttl = args[7], args[8], args[9]
  -- The hourly counts are kept for the longer of the bounce and complaint windows (the
  -- complaint rate, hkb_complaint, divides by the deliveries counted here).
  local keep_hours = math.max(window, tonumber(args[10]))
  -- Without the stream nothing can still be this worker's (it was taken over and finished).
  if redis.call('EXISTS', stream) == 0 then return 0 end
  local i, k = 11, 7
  local n = tonumber(args[i]); i = i + 1
  local acked = 0
  local stats = {}
  local paused_keys = {}
  for _ = 1, n do
    local id, nfinal, member, due = args[i], tonumber(args[i + 1]), args[i + 2], args[i + 3]
    local account, ndelivered, nbounced = args[i + 4], tonumber(args[i + 5]), tonumber(args[i + 6])
    local nevents = tonumber(args[i + 7])
    local first_event = i + 8
    i = first_event + nevents
    local msg, bodykey, rixkey = keys[k], keys[k + 1], keys[k + 2]
    k = k + 3
    if account ~= '' then
      paused_keys[account] = keys[k]
      k = k + 1
    end
    -- Only the worker still holding the claim may settle it: a worker presumed dead
    -- whose entry was taken over by another is ignored, so no outcome applies twice.
    local held = redis.call('XPENDING', stream, GROUP, id, id, 1, consumer)
    if #held == 1 and redis.call('XACK', stream, GROUP, id) == 1 then
      acked = acked + 1
      redis.call('XDEL', stream, id)
      if member ~= '' then
        redis.call('ZADD', deferred, tonumber(due), member)
      end
      if nfinal > 0 then
        redis.call('DECRBY', depth, nfinal)
        if redis.call('HINCRBY', msg, 'remaining', -nfinal) <= 0 then
          redis.call('DEL', msg, bodykey)
          redis.call('EXPIRE', rixkey, rix_ttl)
        end
      end
      for j = first_event, first_event + nevents - 1 do
        redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'e', args[j])
      end
      if account ~= '' and ndelivered + nbounced > 0 then
        local s = stats[account] or {0, 0}
        stats[account] = {s[1] + ndelivered, s[2] + nbounced}
      end
    end
  end
  local hour = math.floor(now_us() / 3600000000)
  for account, s in pairs(stats) do
    local key = bounces_stem .. account .. ':' .. hour
    redis.call('HINCRBY', key, 'delivered', s[1])
    redis.call('HINCRBY', key, 'bounced', s[2])
    redis.call('EXPIRE', key, (keep_hours + 1) * 3600)
    local paused = paused_keys[account]
    if threshold > 0 and s[2] > 0 and redis.call('EXISTS', paused) == 0 then
      local delivered, bounced = 0, 0
      for h = hour - window + 1, hour do
        local v = redis.call('HMGET', bounces_stem .. account .. ':' .. h, 'delivered', 'bounced')
        delivered = delivered + tonumber(v[1] or '0')
        bounced = bounced + tonumber(v[2] or '0')
      end
      local total = delivered + bounced
      if total >= min_volume and bounced * 1000 > threshold * total then
        local rate = string.format('%.1f%% (%d of %d in %dh)', bounced * 100 / total, bounced, total, window)
        local event = replace_plain(replace_plain(pause_event, '%ACCOUNT%', account), '%RATE%', rate)
        redis.call('SET', paused, event)
        redis.call('INCR', version)
        redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'e', event)
      end
    end
  end
  -- The ready score is left alone while work remains: new entries already made the
  -- domain due (enqueue and promote use ZADD NX), and entries other workers hold are
  -- looked at again by hk_claim when their claims could lapse.
  if redis.call('XLEN', stream) == 0 then
    if redis.call('EXISTS', stream) == 1 then redis.call('DEL', stream) end
    redis.call('ZREM', ready, domain)
  end
  return acked
end)

-- hk_return
--   KEYS: q:<pool>:<domain>
--   ARGV: consumer, id...
-- Gives claimed entries back untouched (no attempt counted): graceful shutdown, or a
-- site suspended mid-batch.
redis.register_function('hk_return', function(keys, args)
  local stream, consumer = keys[1], args[1]
  local returned = 0
  if redis.call('EXISTS', stream) == 0 then return 0 end
  for i = 2, #args do
    local id = args[i]
    local held = redis.call('XPENDING', stream, GROUP, id, id, 1, consumer)
    if #held == 1 then
      local entry = redis.call('XRANGE', stream, id, id)
      redis.call('XACK', stream, GROUP, id)
      redis.call('XDEL', stream, id)
      if #entry == 1 then
        redis.call('XADD', stream, '*', unpack(entry[1][2]))
        returned = returned + 1
      end
    end
  end
  return returned
end)

-- hk_adapt
--   KEYS: events (unless without_event), then by action — slow: slow:<unit>,
--         slowlock:<unit>; suspend_ip: susp:ip:<unit>; suspend_site: susp:site:<site>
--   ARGV: action, factor, duration_ms, events_maxlen, event, [without_event: 1 when the
--         limit keys have a slot of their own — the caller then adds the event itself]
-- Adaptive backoff. `slow` multiplies the (IP, site) rate factor (at most once per tenth
-- of the duration, so a burst of throttle replies counts once); `suspend_ip` and
-- `suspend_site` pause sending. Each expires on its own. Returns 1 when applied (and
-- the event written), 0 when an equivalent action was already in force.
redis.register_function('hk_adapt', function(keys, args)
  local action, factor, duration, maxlen, event = args[1], tonumber(args[2]), tonumber(args[3]), args[4], args[5]
  local events, first = keys[1], 2
  if args[6] == '1' then events, first = nil, 1 end
  local target = keys[first]
  if action == 'slow' then
    if not redis.call('SET', keys[first + 1], '1', 'NX', 'PX', math.max(1000, math.floor(duration / 10))) then return 0 end
    local current = tonumber(redis.call('GET', target) or '1')
    local new = math.max(0.01, current * factor)
    redis.call('SET', target, tostring(new), 'PX', duration)
  elseif action == 'suspend_ip' or action == 'suspend_site' then
    if not redis.call('SET', target, event, 'NX', 'PX', duration) then return 0 end
  else
    return redis.error_reply('unknown action ' .. action)
  end
  if events then redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'e', event) end
  return 1
end)

-- hk_promote
--   KEYS: deferred
--   ARGV: limit, stream_stem (prefix of q:), ready_stem (prefix of ready:),
--         wake_stem (prefix of wake:)
-- Moves deferred work whose time has come back to its domain's stream. Member: entry_id
-- TAB pool TAB domain TAB qid TAB attempts TAB accepted_ms TAB rcpts (LF-separated)
-- [TAB egress_ip: the retry is pinned to it, field `p`; see hk_claim].
-- Keys built here: q:<pool>:<domain>, ready:<pool> and wake:<pool> of each due member
-- (known only once read).
redis.register_function('hk_promote', function(keys, args)
  local deferred = keys[1]
  local limit, stream_stem, ready_stem, wake_stem = tonumber(args[1]), args[2], args[3], args[4]
  local now = math.floor(now_us() / 1000)
  local due = redis.call('ZRANGE', deferred, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit)
  for _, member in ipairs(due) do
    local parts = {}
    for part in string.gmatch(member, '([^\t]*)\t?') do
      parts[#parts + 1] = part
      if #parts == 8 then break end
    end
    local fields = {'q', parts[4], 'r', parts[7], 'n', parts[5], 't', parts[6]}
    if parts[8] and parts[8] ~= '' then fields[#fields + 1] = 'p'; fields[#fields + 1] = parts[8] end
    add_work(stream_stem .. parts[2] .. ':' .. parts[3], ready_stem .. parts[2], wake_stem .. parts[2], parts[3], fields, now)
    redis.call('ZREM', deferred, member)
  end
  return #due
end)

-- hk_import_work
--   KEYS: q:<pool>:<domain>, ready:<pool>, wake:<pool>, depth:<pool>, deferred
--   ARGV: kind ('entry' | 'deferred'), domain, nrcpt, then for an entry its fields
--         (field, value)...; for a deferred item its due time (ms) and member
-- Adds work moved from another Redis (`hikyaku redis move-queue`, whose message, body and
-- recipient index are already here): a stream entry becomes due like a new one, a retry
-- keeps its due time; either counts its recipients in the pool's depth.
redis.register_function('hk_import_work', function(keys, args)
  local stream, ready, wake, depth, deferred = keys[1], keys[2], keys[3], keys[4], keys[5]
  local kind, domain, nrcpt = args[1], args[2], tonumber(args[3])
  local now_ms = math.floor(now_us() / 1000)
  if kind == 'entry' then
    local fields = {}
    for i = 4, #args do fields[#fields + 1] = args[i] end
    add_work(stream, ready, wake, domain, fields, now_ms)
  elseif kind == 'deferred' then
    redis.call('ZADD', deferred, tonumber(args[4]), args[5])
  else
    return redis.error_reply('unknown kind ' .. kind)
  end
  redis.call('INCRBY', depth, nrcpt)
  return 1
end)

-- hk_rate
--   KEYS: apirate:<api key id>
--   ARGV: interval_us, burst
-- One request under a GCRA limit (the HTTP API's per-key rate): 0 when it may go (and
-- is counted), else how many milliseconds until one may.
redis.register_function('hk_rate', function(keys, args)
  local interval, burst = tonumber(args[1]), tonumber(args[2])
  local now = now_us()
  local available, wait = gcra_available(keys[1], now, interval, burst, 1)
  if available == 0 then return math.max(1, math.ceil(wait / 1000)) end
  gcra_move(keys[1], now, interval, 1)
  return 0
end)
