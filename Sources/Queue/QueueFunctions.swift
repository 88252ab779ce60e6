/// The Redis Functions library (Redis ≥ 7.0) that implements the queue's atomic steps.
///
/// Each step is one `FCALL`: one round trip, atomic, and replicated/persisted as a unit,
/// so an accepted message is either wholly in Redis or not at all, an outcome is recorded
/// in the same step that acknowledges the work, and a rate-limit decision is exact however
/// many workers ask at once. Every new connection checks that this version of the library
/// is loaded and loads it if the user may (`FunctionLibraries`), so a fresh or
/// failed-over Redis never lacks it.
///
/// Data model (prefix `hk:`; `<unit>` is `<egress ip>|<site>`):
/// - `msg:<qid>` hash — sender, Message-ID, pool, acceptance time, size, and `remaining`
///   (recipients not yet final). Deleted with the body when `remaining` reaches 0.
/// - `body:<qid>` string — the message as it will be sent, stored once.
/// - `tmp:<qid>` string — a large body being streamed in with `APPEND`; renamed to `body:`
///   at acceptance, expires on its own if the session dies first.
/// - `q:<pool>:<domain>` stream, consumer group `workers` — one entry per (message,
///   recipient domain): `q` queue id, `r` recipients (LF-separated), `n` attempts so far,
///   `t` acceptance time (ms). `XDEL`eted after `XACK`; never capped.
/// - `ready:<pool>` sorted set — domains with work, scored by when a worker may next take them.
/// - `deferred` sorted set — work waiting for a retry, scored by due time (ms).
/// - `depth:<pool>` counter — recipients accepted and not yet final.
/// - `events` stream — one JSON event per outcome (field `e`), trimmed approximately.
/// - `scanned:<pool>:<domain>` — `done` while a recent complete look for a dead worker's
///   entries makes another unnecessary, else the cursor of the look in progress.
/// - `node:<consumer>` — the lease on a worker identity (`<node_name>/<slot>`): the holding
///   process's token, expiring unless renewed (see `NodeIdentity`).
/// - `leases:<consumer>` set — `<unit>\n<lease>` of the connection leases a worker holds,
///   freed by its next run after a crash.
/// - Limits: `gcra:ip:<unit>`, `gcra:site:<site>`, `gcra:conn:<unit>` (GCRA theoretical
///   arrival times, µs); `conn:<unit>` sorted set of connection leases scored by expiry;
///   `warm:<ip>:<day>` messages sent by an IP that UTC day.
/// - Adaptive backoff: `slow:<unit>` (rate factor), `susp:ip:<unit>`, `susp:site:<site>`
///   (present while suspended; the value says why), each expiring on its own; an operator
///   can also suspend an IP for every site (`susp:ipall:<ip>`).
enum QueueFunctions {
    static let source = #"""
    #!lua name=hikyaku

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

    local function stream_key(prefix, pool, domain)
      return prefix .. 'q:' .. pool .. ':' .. domain
    end

    local function add_work(prefix, pool, domain, fields, now_ms)
      local stream = stream_key(prefix, pool, domain)
      if redis.call('EXISTS', stream) == 0 then
        redis.call('XGROUP', 'CREATE', stream, GROUP, '0', 'MKSTREAM')
      end
      redis.call('XADD', stream, '*', unpack(fields))
      -- NX: a destination without a score becomes due now; one that has a score keeps it —
      -- it is resting for a reason (a rate-limit or suspension wait, or a moment for more
      -- mail to gather into the next batch), and new mail must not undo that.
      redis.call('ZADD', prefix .. 'ready:' .. pool, 'NX', now_ms, domain)
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

    local function gcra_take(key, now, interval, count)
      if interval <= 0 or count <= 0 then return end
      local tat = tonumber(redis.call('GET', key) or '0')
      if tat < now then tat = now end
      tat = tat + interval * count
      redis.call('SET', key, string.format('%d', tat), 'PX', math.floor((tat - now) / 1000) + 60000)
    end

    -- hk_enqueue: prefix, deadline_ms, qid, tmp_key, body, events_maxlen, accepted_event,
    --             pool, nfields, field, value, ..., ndomains, (domain, nrcpt, rcpt...)...,
    --             account, hourly_quota, daily_quota
    -- Refuses (without writing anything) once Redis's clock has passed the deadline, so a
    -- write that arrives after the client was told 451 cannot become a ghost message; and
    -- when the account's recipients this clock hour / UTC day would exceed its quota (-1:
    -- none), with `QUOTA hourly|daily <limit> <retry_after_s>`.
    redis.register_function('hk_enqueue', function(keys, args)
      local prefix, deadline, qid, tmp, body = args[1], tonumber(args[2]), args[3], args[4], args[5]
      local maxlen, accepted, pool = args[6], args[7], args[8]
      local now = math.floor(now_us() / 1000)
      if now > deadline then
        return redis.error_reply('DEADLINE enqueue arrived after its deadline')
      end
      local i = 9
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
        work[d] = {domain = args[i], rcpts = table.concat(args, '\n', i + 2, i + 1 + n)}
        i = i + 2 + n
        total = total + n
      end
      local account, hourly, daily = args[i], tonumber(args[i + 1] or '-1'), tonumber(args[i + 2] or '-1')
      local quota_keys = {}
      if account and account ~= '' then
        local hour, day = math.floor(now / 3600000), math.floor(now / 86400000)
        for _, q in ipairs({{'hourly', hourly, prefix .. 'quota:' .. account .. ':h:' .. hour, (hour + 1) * 3600},
                            {'daily', daily, prefix .. 'quota:' .. account .. ':d:' .. day, (day + 1) * 86400}}) do
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
      local msg = prefix .. 'msg:' .. qid
      local bodykey = prefix .. 'body:' .. qid
      if redis.call('EXISTS', msg) == 1 then
        return redis.error_reply('EXISTS queue id already used')
      end
      if tmp ~= '' then
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
        add_work(prefix, pool, w.domain, {'q', qid, 'r', w.rcpts, 'n', '0', 't', tostring(now)}, now)
      end
      hash[#hash + 1] = 'remaining'; hash[#hash + 1] = tostring(total)
      hash[#hash + 1] = 'accepted'; hash[#hash + 1] = tostring(now)
      redis.call('HSET', msg, unpack(hash))
      redis.call('INCRBY', prefix .. 'depth:' .. pool, total)
      redis.call('XADD', prefix .. 'events', 'MAXLEN', '~', maxlen, '*', 'e', accepted)
      return now
    end)

    -- hk_next: prefix, pool, hold_ms — the first domain of the pool due now, held for
    -- `hold_ms` (so other workers move on while this one looks up its site and asks
    -- hk_claim). Returns {domain} or {'', next_due_ms | -1}.
    redis.register_function('hk_next', function(keys, args)
      local prefix, pool, hold = args[1], args[2], tonumber(args[3])
      local ready = prefix .. 'ready:' .. pool
      local now = math.floor(now_us() / 1000)
      local due = redis.call('ZRANGE', ready, '-inf', now, 'BYSCORE', 'LIMIT', 0, 1)
      if #due == 0 then
        local first = redis.call('ZRANGE', ready, 0, 0, 'WITHSCORES')
        if #first == 0 then return {'', -1} end
        return {'', math.floor(tonumber(first[2]))}
      end
      redis.call('ZADD', ready, now + hold, due[1])
      return {due[1]}
    end)

    -- hk_claim: prefix, pool, domain, site, consumer, batch, claim_timeout_ms, lease_ms,
    --           site_interval_us, site_burst, day, gather_ms, held_ip, held_lease, nips,
    --           (ip, max_conn, ip_interval_us, ip_burst, conn_interval_us, conn_burst, warm_cap)...
    -- Picks the first egress IP (in the order given) that may send to the site now — not
    -- suspended, under its warm-up cap, with a free connection lease and room in the
    -- (IP, site), site and new-connection rates — takes a lease, claims as many entries as
    -- the limits allow (entries of dead workers first, then new ones) and charges the
    -- limits for them. Returns {domain, ip, lease, {id, fields}...}; or, when nothing may be
    -- sent now, re-scores the domain to when something may and returns {'', wait_ms, reason}.
    -- On success: {domain, ip, lease, n_taken_over, {id, fields}...}.
    -- held_ip/held_lease (or ''): the caller still has a connection open from held_ip to
    -- this destination under that lease. If held_ip is chosen the connection is reused:
    -- neither the connection count nor the new-connection rate applies, and the same lease
    -- is extended and returned. If another IP is chosen the held lease is given back (the
    -- caller closes that connection). When nothing may be sent the lease is kept: the caller
    -- either waits with the connection open or releases it with hk_release.
    redis.register_function('hk_claim', function(keys, args)
      local prefix, pool, domain, site, consumer = args[1], args[2], args[3], args[4], args[5]
      local batch, idle, lease_ms = tonumber(args[6]), tonumber(args[7]), tonumber(args[8])
      local site_interval, site_burst, day = tonumber(args[9]), tonumber(args[10]), args[11]
      local gather = tonumber(args[12])
      local held_ip, held_lease = args[13], args[14]
      local nips = tonumber(args[15])
      local ready = prefix .. 'ready:' .. pool
      local stream = stream_key(prefix, pool, domain)
      local now = now_us()
      local now_ms = math.floor(now / 1000)
      if redis.call('EXISTS', stream) == 0 then
        redis.call('ZREM', ready, domain)
        return {'', 0, 'empty'}
      end
      local function wait(ms, reason)
        if ms < 1 then ms = 1 end
        redis.call('ZADD', ready, now_ms + ms, domain)
        return {'', ms, reason}
      end
      local suspended = redis.call('PTTL', prefix .. 'susp:site:' .. site)
      if suspended > 0 then return wait(suspended, 'suspended') end
      local site_key = prefix .. 'gcra:site:' .. site
      local site_avail, site_wait = gcra_available(site_key, now, site_interval, site_burst, batch)
      if site_avail == 0 then return wait(math.ceil(site_wait / 1000), 'rate_site') end

      local best_wait, best_reason = nil, 'none'
      local function note(ms, reason)
        if best_wait == nil or ms < best_wait then best_wait, best_reason = ms, reason end
      end
      local chosen
      local i = 16
      for _ = 1, nips do
        local ip, max_conn = args[i], tonumber(args[i + 1])
        local ip_interval, ip_burst = tonumber(args[i + 2]), tonumber(args[i + 3])
        local conn_interval, conn_burst, warm_cap = tonumber(args[i + 4]), tonumber(args[i + 5]), tonumber(args[i + 6])
        i = i + 7
        local unit = ip .. '|' .. site
        repeat
          local ip_suspended = math.max(redis.call('PTTL', prefix .. 'susp:ip:' .. unit),
                                        redis.call('PTTL', prefix .. 'susp:ipall:' .. ip))
          if ip_suspended > 0 then note(ip_suspended, 'suspended'); break end
          local warm_left = batch
          local warm_key = prefix .. 'warm:' .. ip .. ':' .. day
          if warm_cap >= 0 then
            warm_left = warm_cap - tonumber(redis.call('GET', warm_key) or '0')
            if warm_left <= 0 then note(86400000 - now_ms % 86400000, 'warmup'); break end
          end
          local conn_key = prefix .. 'conn:' .. unit
          local conn_key_rate = prefix .. 'gcra:conn:' .. unit
          local reuse = held_lease ~= '' and ip == held_ip
          if not reuse then
            redis.call('ZREMRANGEBYSCORE', conn_key, '-inf', now_ms)
            if max_conn > 0 and redis.call('ZCARD', conn_key) >= max_conn then note(250, 'connections'); break end
            local conn_ok, conn_wait = gcra_available(conn_key_rate, now, conn_interval, conn_burst, 1)
            if conn_ok == 0 then note(math.ceil(conn_wait / 1000), 'connection_rate'); break end
          end
          local factor = tonumber(redis.call('GET', prefix .. 'slow:' .. unit) or '1')
          local interval = ip_interval
          if interval > 0 and factor < 1 then interval = math.floor(interval / factor) end
          local ip_key = prefix .. 'gcra:ip:' .. unit
          local ip_avail, ip_wait = gcra_available(ip_key, now, interval, ip_burst, batch)
          if ip_avail == 0 then note(math.ceil(ip_wait / 1000), 'rate_ip'); break end
          local n = math.min(batch, ip_avail, site_avail, warm_left)
          chosen = {ip = ip, n = n, unit = unit, ip_key = ip_key, interval = interval, conn_key = conn_key,
                    conn_key_rate = conn_key_rate, conn_interval = conn_interval, warm_key = warm_key,
                    warm_cap = warm_cap, ip_burst = ip_burst, reuse = reuse}
        until true
        if chosen then break end
      end
      if not chosen then return wait(best_wait or 1000, best_reason) end

      local out = {domain, chosen.ip, '', 0}
      -- Dead workers' entries first. A pass over the pending list goes on where the last
      -- claim left it (the cursor is kept in `scanned:`), so a dead worker's backlog is
      -- taken over a batch per claim, at full speed; after a complete pass the next one
      -- starts a quarter of the claim timeout later (takeover within 1.25 × the timeout).
      local scanned = prefix .. 'scanned:' .. pool .. ':' .. domain
      local cursor = redis.call('GET', scanned)
      if cursor ~= 'done' then
        local reclaimed = redis.call('XAUTOCLAIM', stream, GROUP, consumer, idle, cursor or '0-0', 'COUNT', chosen.n)
        for _, entry in ipairs(reclaimed[2]) do out[#out + 1] = entry end
        if reclaimed[1] == '0-0' then
          redis.call('SET', scanned, 'done', 'PX', math.max(100, math.floor(idle / 4)))
        else
          redis.call('SET', scanned, reclaimed[1], 'PX', math.max(100, idle))
        end
      end
      out[4] = #out - 4
      local want = chosen.n - (#out - 4)
      if want > 0 then
        local fresh = redis.call('XREADGROUP', 'GROUP', GROUP, consumer, 'COUNT', want, 'STREAMS', stream, '>')
        if fresh then
          for _, entry in ipairs(fresh[1][2]) do out[#out + 1] = entry end
        end
      end
      local got = #out - 4
      if got == 0 then
        if redis.call('XLEN', stream) == 0 then
          redis.call('DEL', stream)
          redis.call('ZREM', ready, domain)
          return {'', 0, 'empty'}
        end
        -- Everything left is claimed by live workers: look again shortly — new mail may
        -- arrive meanwhile (enqueue does not advance a domain already in the index), and
        -- their claims may lapse.
        return wait(math.min(idle, 100), 'claimed')
      end
      gcra_take(chosen.ip_key, now, chosen.interval, got)
      gcra_take(site_key, now, site_interval, got)
      if chosen.warm_cap >= 0 then
        redis.call('INCRBY', chosen.warm_key, got)
        redis.call('EXPIRE', chosen.warm_key, 172800)
      end
      local lease = held_lease
      if not chosen.reuse then
        gcra_take(chosen.conn_key_rate, now, chosen.conn_interval, 1)
        local leases = prefix .. 'leases:' .. consumer
        if held_lease ~= '' then
          redis.call('ZREM', prefix .. 'conn:' .. held_ip .. '|' .. site, held_lease)
          redis.call('SREM', leases, held_ip .. '|' .. site .. '\n' .. held_lease)
        end
        lease = consumer .. '#' .. redis.call('INCR', prefix .. 'leaseseq')
        -- Remembered per consumer, so a restarted worker frees what its crashed self held.
        redis.call('SADD', leases, chosen.unit .. '\n' .. lease)
        redis.call('PEXPIRE', leases, lease_ms)
      end
      redis.call('ZADD', chosen.conn_key, now_ms + lease_ms, lease)
      out[3] = lease
      if got < chosen.n then
        -- This batch took everything there was: let new mail gather for a moment so the
        -- next batch carries more than one message (a steady stream costs one claim per
        -- `gather_ms`, not one per message).
        redis.call('ZADD', ready, now_ms + gather, domain)
      elseif site_interval > 0 and chosen.n == site_avail and site_avail < batch then
        -- The site's own rate is what stopped this batch: no IP may send before it allows.
        local _, s_wait_after = gcra_available(site_key, now, site_interval, site_burst, 1)
        redis.call('ZADD', ready, now_ms + math.floor(s_wait_after / 1000), domain)
      else
        -- There may be more, and other IPs (of this or other workers) may be free to send
        -- it now: leave the domain due; a worker whose IPs are all limited re-scores it.
        redis.call('ZADD', ready, now_ms, domain)
      end
      return out
    end)

    -- hk_release: prefix, unit, lease — gives a connection lease back.
    redis.register_function('hk_release', function(keys, args)
      local consumer = string.match(args[3], '^(.*)#%d+$')
      if consumer then redis.call('SREM', args[1] .. 'leases:' .. consumer, args[2] .. '\n' .. args[3]) end
      return redis.call('ZREM', args[1] .. 'conn:' .. args[2], args[3])
    end)

    -- hk_refresh: prefix, pool, domain, consumer, unit, lease, lease_ms, id... — keeps a
    -- long batch's claims and its connection lease fresh.
    redis.register_function('hk_refresh', function(keys, args)
      local prefix, pool, domain, consumer, unit, lease = args[1], args[2], args[3], args[4], args[5], args[6]
      local lease_ms = tonumber(args[7])
      local stream = stream_key(prefix, pool, domain)
      -- unpack() must come last in a call's arguments (elsewhere Lua passes only its first value).
      local command = {'XCLAIM', stream, GROUP, consumer, 0}
      for i = 8, #args do command[#command + 1] = args[i] end
      command[#command + 1] = 'JUSTID'
      if #command > 6 and redis.call('EXISTS', stream) == 1 then
        redis.call(unpack(command))
      end
      if lease ~= '' then
        redis.call('ZADD', prefix .. 'conn:' .. unit, 'XX', math.floor(now_us() / 1000) + lease_ms, lease)
        redis.call('PEXPIRE', prefix .. 'leases:' .. consumer, lease_ms)
      end
      return #command - 6
    end)

    -- hk_node_acquire: prefix, name, token, ttl_ms, dead_holder — takes the identity `name`
    -- for the process `token` if nobody holds it, or if it is held by `dead_holder` (a
    -- token the caller found to be of a dead process; '' for none). Returns {1} when
    -- taken, else {0, holder, remaining_ms}.
    redis.register_function('hk_node_acquire', function(keys, args)
      local key = args[1] .. 'node:' .. args[2]
      local token, ttl, dead = args[3], tonumber(args[4]), args[5]
      local holder = redis.call('GET', key)
      if holder == false or holder == token or (dead ~= '' and holder == dead) then
        redis.call('SET', key, token, 'PX', ttl)
        return {1}
      end
      return {0, holder, redis.call('PTTL', key)}
    end)

    -- hk_node_renew: prefix, name, token, ttl_ms — extends the identity lease. Returns 1
    -- when renewed, 2 when it had lapsed (Redis was out of reach) and was free to take
    -- again, 0 when another process holds it now.
    redis.register_function('hk_node_renew', function(keys, args)
      local key = args[1] .. 'node:' .. args[2]
      local token, ttl = args[3], tonumber(args[4])
      local holder = redis.call('GET', key)
      if holder == token then redis.call('PEXPIRE', key, ttl); return 1 end
      if holder == false then redis.call('SET', key, token, 'PX', ttl); return 2 end
      return 0
    end)

    -- hk_node_release: prefix, name, token — gives the identity back (graceful stop).
    redis.register_function('hk_node_release', function(keys, args)
      local key = args[1] .. 'node:' .. args[2]
      if redis.call('GET', key) == args[3] then return redis.call('DEL', key) end
      return 0
    end)

    -- hk_recover_leases: prefix, consumer — frees the connection leases a crashed earlier
    -- run of this identity held (they would otherwise count against the sites' connection
    -- limits until they expire). Returns how many.
    redis.register_function('hk_recover_leases', function(keys, args)
      local prefix, consumer = args[1], args[2]
      local set = prefix .. 'leases:' .. consumer
      local freed = 0
      for _, member in ipairs(redis.call('SMEMBERS', set)) do
        local unit, lease = string.match(member, '^(.*)\n(.*)$')
        if unit then freed = freed + redis.call('ZREM', prefix .. 'conn:' .. unit, lease) end
      end
      redis.call('DEL', set)
      return freed
    end)

    -- hk_recover: prefix, consumer, pool, domain... — makes the entries a crashed earlier
    -- run of this identity had claimed in these destinations takeable at once: they are
    -- marked idle "forever" (XCLAIM … IDLE, not counted as a delivery) so the next
    -- hk_claim's XAUTOCLAIM takes them without waiting for the claim timeout, and the
    -- destination is made due now. Returns how many entries.
    redis.register_function('hk_recover', function(keys, args)
      local prefix, consumer, pool = args[1], args[2], args[3]
      local now_ms = math.floor(now_us() / 1000)
      local total = 0
      for i = 4, #args do
        local domain = args[i]
        local stream = stream_key(prefix, pool, domain)
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
          redis.call('DEL', prefix .. 'scanned:' .. pool .. ':' .. domain)
          redis.call('ZADD', prefix .. 'ready:' .. pool, now_ms, domain)
          total = total + found
        end
      end
      return total
    end)

    -- hk_complete: prefix, pool, consumer, domain, events_maxlen,
    --              bounce_threshold_permille, bounce_min_volume, bounce_window_hours, pause_event,
    --              nentries, (entry_id, qid, nfinal, defer_member, defer_due, account,
    --              ndelivered, nbounced, nevents, event...)...
    -- Records outcomes and acknowledges the entries in one atomic step. Per account it
    -- counts delivered and hard-bounced recipients by the hour; when the bounces over the
    -- last `bounce_window_hours` exceed the threshold (with at least `bounce_min_volume`
    -- final outcomes), the account is paused and `pause_event` (with its rate filled in
    -- for `%s`) is written. Threshold 0 turns this off.
    redis.register_function('hk_complete', function(keys, args)
      local prefix, pool, consumer, domain, maxlen = args[1], args[2], args[3], args[4], args[5]
      local threshold, min_volume, window = tonumber(args[6]), tonumber(args[7]), tonumber(args[8])
      local pause_event = args[9]
      local stream = stream_key(prefix, pool, domain)
      -- Without the stream nothing can still be this worker's (it was taken over and finished).
      if redis.call('EXISTS', stream) == 0 then return 0 end
      local i = 10
      local n = tonumber(args[i]); i = i + 1
      local acked = 0
      local stats = {}
      for _ = 1, n do
        local id, qid, nfinal, member, due = args[i], args[i + 1], tonumber(args[i + 2]), args[i + 3], args[i + 4]
        local account, ndelivered, nbounced = args[i + 5], tonumber(args[i + 6]), tonumber(args[i + 7])
        local nevents = tonumber(args[i + 8])
        local first_event = i + 9
        i = first_event + nevents
        -- Only the worker still holding the claim may settle it: a worker presumed dead
        -- whose entry was taken over by another is ignored, so no outcome applies twice.
        local held = redis.call('XPENDING', stream, GROUP, id, id, 1, consumer)
        if #held == 1 and redis.call('XACK', stream, GROUP, id) == 1 then
          acked = acked + 1
          redis.call('XDEL', stream, id)
          if member ~= '' then
            redis.call('ZADD', prefix .. 'deferred', tonumber(due), member)
          end
          if nfinal > 0 then
            redis.call('DECRBY', prefix .. 'depth:' .. pool, nfinal)
            local msg = prefix .. 'msg:' .. qid
            if redis.call('HINCRBY', msg, 'remaining', -nfinal) <= 0 then
              redis.call('DEL', msg, prefix .. 'body:' .. qid)
            end
          end
          for j = first_event, first_event + nevents - 1 do
            redis.call('XADD', prefix .. 'events', 'MAXLEN', '~', maxlen, '*', 'e', args[j])
          end
          if account ~= '' and ndelivered + nbounced > 0 then
            local s = stats[account] or {0, 0}
            stats[account] = {s[1] + ndelivered, s[2] + nbounced}
          end
        end
      end
      local hour = math.floor(now_us() / 3600000000)
      for account, s in pairs(stats) do
        local key = prefix .. 'bounces:' .. account .. ':' .. hour
        redis.call('HINCRBY', key, 'delivered', s[1])
        redis.call('HINCRBY', key, 'bounced', s[2])
        redis.call('EXPIRE', key, (window + 1) * 3600)
        local paused = prefix .. 'acct:' .. account .. ':paused'
        if threshold > 0 and s[2] > 0 and redis.call('EXISTS', paused) == 0 then
          local delivered, bounced = 0, 0
          for h = hour - window + 1, hour do
            local v = redis.call('HMGET', prefix .. 'bounces:' .. account .. ':' .. h, 'delivered', 'bounced')
            delivered = delivered + tonumber(v[1] or '0')
            bounced = bounced + tonumber(v[2] or '0')
          end
          local total = delivered + bounced
          if total >= min_volume and bounced * 1000 > threshold * total then
            local rate = string.format('%.1f%% (%d of %d in %dh)', bounced * 100 / total, bounced, total, window)
            local event = replace_plain(replace_plain(pause_event, '%ACCOUNT%', account), '%RATE%', rate)
            redis.call('SET', paused, event)
            redis.call('INCR', prefix .. 'acct:version')
            redis.call('XADD', prefix .. 'events', 'MAXLEN', '~', maxlen, '*', 'e', event)
          end
        end
      end
      -- The ready score is left alone while work remains: new entries already made the
      -- domain due (enqueue and promote use ZADD LT), and entries other workers hold are
      -- looked at again by hk_claim when their claims could lapse.
      if redis.call('XLEN', stream) == 0 then
        if redis.call('EXISTS', stream) == 1 then redis.call('DEL', stream) end
        redis.call('ZREM', prefix .. 'ready:' .. pool, domain)
      end
      return acked
    end)

    -- hk_return: prefix, pool, consumer, domain, id... — gives claimed entries back
    -- untouched (no attempt counted): graceful shutdown, or a site suspended mid-batch.
    redis.register_function('hk_return', function(keys, args)
      local prefix, pool, consumer, domain = args[1], args[2], args[3], args[4]
      local stream = stream_key(prefix, pool, domain)
      local returned = 0
      if redis.call('EXISTS', stream) == 0 then return 0 end
      for i = 5, #args do
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

    -- hk_adapt: prefix, action, unit, site, factor, duration_ms, events_maxlen, event —
    -- adaptive backoff. `slow` multiplies the (IP, site) rate factor (at most once per tenth
    -- of the duration, so a burst of throttle replies counts once); `suspend_ip` and
    -- `suspend_site` pause sending. Each expires on its own. Returns 1 when applied (and
    -- the event written), 0 when an equivalent action was already in force.
    redis.register_function('hk_adapt', function(keys, args)
      local prefix, action, unit, site = args[1], args[2], args[3], args[4]
      local factor, duration, maxlen, event = tonumber(args[5]), tonumber(args[6]), args[7], args[8]
      if action == 'slow' then
        local lock = prefix .. 'slowlock:' .. unit
        if not redis.call('SET', lock, '1', 'NX', 'PX', math.max(1000, math.floor(duration / 10))) then return 0 end
        local key = prefix .. 'slow:' .. unit
        local current = tonumber(redis.call('GET', key) or '1')
        local new = math.max(0.01, current * factor)
        redis.call('SET', key, tostring(new), 'PX', duration)
      elseif action == 'suspend_ip' then
        if not redis.call('SET', prefix .. 'susp:ip:' .. unit, event, 'NX', 'PX', duration) then return 0 end
      elseif action == 'suspend_site' then
        if not redis.call('SET', prefix .. 'susp:site:' .. site, event, 'NX', 'PX', duration) then return 0 end
      else
        return redis.error_reply('unknown action ' .. action)
      end
      redis.call('XADD', prefix .. 'events', 'MAXLEN', '~', maxlen, '*', 'e', event)
      return 1
    end)

    -- hk_promote: prefix, limit — moves deferred work whose time has come back to its
    -- domain's stream. Member: entry_id TAB pool TAB domain TAB qid TAB attempts TAB
    -- accepted_ms TAB rcpts (LF-separated).
    redis.register_function('hk_promote', function(keys, args)
      local prefix, limit = args[1], tonumber(args[2])
      local deferred = prefix .. 'deferred'
      local now = math.floor(now_us() / 1000)
      local due = redis.call('ZRANGE', deferred, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit)
      for _, member in ipairs(due) do
        local parts = {}
        for part in string.gmatch(member, '([^\t]*)\t?') do
          parts[#parts + 1] = part
          if #parts == 7 then break end
        end
        add_work(prefix, parts[2], parts[3], {'q', parts[4], 'r', parts[7], 'n', parts[5], 't', parts[6]}, now)
        redis.call('ZREM', deferred, member)
      end
      return #due
    end)
    """#
}
