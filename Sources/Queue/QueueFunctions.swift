/// The Redis Functions library (Redis ≥ 7.0) that implements the queue's atomic steps.
///
/// Each step is one `FCALL`: one round trip, atomic, and replicated/persisted as a unit,
/// so an accepted message is either wholly in Redis or not at all, and an outcome is
/// recorded in the same step that acknowledges the work. The library is (re)loaded with
/// `FUNCTION LOAD REPLACE` on every new connection, so a fresh or failed-over Redis never
/// lacks it.
///
/// Data model (prefix `hk:`):
/// - `hk:msg:<qid>` hash — envelope sender, Message-ID, acceptance time, size, number of
///   recipients not yet final (`remaining`). Deleted with the body when that reaches 0.
/// - `hk:body:<qid>` string — the message as it will be sent, stored once.
/// - `hk:tmp:<qid>` string — a large body being streamed in with `APPEND`; renamed to
///   `hk:body:` at acceptance, expires on its own if the session dies first.
/// - `hk:q:<domain>` stream, consumer group `workers` — one entry per (message, recipient
///   domain): fields `q` queue id, `r` recipients (LF-separated), `n` attempts so far,
///   `t` acceptance time (ms). Entries are `XDEL`eted after `XACK`; never capped.
/// - `hk:ready` sorted set — domains with work, scored by when a worker may next take them.
/// - `hk:deferred` sorted set — work waiting for a retry, scored by due time (ms).
/// - `hk:events` stream — one JSON event per outcome (field `e`), trimmed approximately.
enum QueueFunctions {
    static let libraryName = "hikyaku"
    /// Bump when the library changes; `FUNCTION LOAD REPLACE` makes old nodes harmless.
    static let version = 2

    static let source = #"""
    #!lua name=hikyaku

    local GROUP = 'workers'

    local function now_ms()
      local t = redis.call('TIME')
      return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    end

    local function add_work(prefix, domain, fields, now)
      local stream = prefix .. 'q:' .. domain
      if redis.call('EXISTS', stream) == 0 then
        redis.call('XGROUP', 'CREATE', stream, GROUP, '0', 'MKSTREAM')
      end
      redis.call('XADD', stream, '*', unpack(fields))
      -- LT: bring the domain forward to now, never push it back.
      redis.call('ZADD', prefix .. 'ready', 'LT', now, domain)
    end

    -- hk_enqueue: prefix, deadline_ms, qid, tmp_key, body, events_maxlen, accepted_event,
    --             nfields, field, value, ..., ndomains, (domain, nrcpt, rcpt...)...
    -- Refuses (without writing anything) once Redis's clock has passed the deadline, so a
    -- write that arrives after the client was told 451 cannot become a ghost message.
    redis.register_function('hk_enqueue', function(keys, args)
      local prefix, deadline, qid, tmp, body = args[1], tonumber(args[2]), args[3], args[4], args[5]
      local maxlen, accepted = args[6], args[7]
      local now = now_ms()
      if now > deadline then
        return redis.error_reply('DEADLINE enqueue arrived after its deadline')
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
      local i = 8
      local nfields = tonumber(args[i]); i = i + 1
      local hash = {}
      for _ = 1, nfields do
        hash[#hash + 1] = args[i]; hash[#hash + 1] = args[i + 1]; i = i + 2
      end
      local ndomains = tonumber(args[i]); i = i + 1
      local total = 0
      for _ = 1, ndomains do
        local domain = args[i]
        local n = tonumber(args[i + 1])
        local rcpts = {}
        for j = 1, n do rcpts[j] = args[i + 1 + j] end
        i = i + 2 + n
        total = total + n
        add_work(prefix, domain, {'q', qid, 'r', table.concat(rcpts, '\n'), 'n', '0', 't', tostring(now)}, now)
      end
      hash[#hash + 1] = 'remaining'; hash[#hash + 1] = tostring(total)
      hash[#hash + 1] = 'accepted'; hash[#hash + 1] = tostring(now)
      redis.call('HSET', msg, unpack(hash))
      redis.call('XADD', prefix .. 'events', 'MAXLEN', '~', maxlen, '*', 'e', accepted)
      return now
    end)

    -- hk_claim: prefix, consumer, batch, claim_timeout_ms, lease_ms
    -- Takes the first domain due in hk:ready and claims up to `batch` entries of its stream:
    -- first entries whose worker stopped confirming them (idle ≥ claim timeout), then new
    -- ones. Returns {domain, {id, fields}...}; or {'', next_due_ms} when nothing is due.
    redis.register_function('hk_claim', function(keys, args)
      local prefix, consumer = args[1], args[2]
      local batch, idle, lease = tonumber(args[3]), tonumber(args[4]), tonumber(args[5])
      local ready = prefix .. 'ready'
      local now = now_ms()
      local due = redis.call('ZRANGE', ready, '-inf', now, 'BYSCORE', 'LIMIT', 0, 1)
      if #due == 0 then
        local first = redis.call('ZRANGE', ready, 0, 0, 'WITHSCORES')
        if #first == 0 then return {'', -1} end
        return {'', math.floor(tonumber(first[2]))}
      end
      local domain = due[1]
      local stream = prefix .. 'q:' .. domain
      local out = {domain}
      if redis.call('EXISTS', stream) == 0 then
        redis.call('ZREM', ready, domain)
        return out
      end
      local reclaimed = redis.call('XAUTOCLAIM', stream, GROUP, consumer, idle, '0-0', 'COUNT', batch)
      for _, entry in ipairs(reclaimed[2]) do out[#out + 1] = entry end
      local want = batch - (#out - 1)
      if want > 0 then
        local fresh = redis.call('XREADGROUP', 'GROUP', GROUP, consumer, 'COUNT', want, 'STREAMS', stream, '>')
        if fresh then
          for _, entry in ipairs(fresh[1][2]) do out[#out + 1] = entry end
        end
      end
      local got = #out - 1
      if got == 0 then
        if redis.call('XLEN', stream) == 0 then
          redis.call('DEL', stream)
          redis.call('ZREM', ready, domain)
        else
          -- Everything left is claimed by live workers; look again when their claims could lapse.
          redis.call('ZADD', ready, now + idle, domain)
        end
      elseif got < batch then
        -- A partial batch took everything: give this worker the domain for the lease.
        redis.call('ZADD', ready, now + lease, domain)
      end
      -- A full batch leaves the domain due, so other workers can share a busy destination.
      return out
    end)

    -- hk_complete: prefix, consumer, domain, events_maxlen, nentries,
    --              (entry_id, qid, nfinal, defer_member, defer_due, nevents, event...)...
    -- Records a batch's outcomes and acknowledges its entries in one atomic step.
    redis.register_function('hk_complete', function(keys, args)
      local prefix, consumer, domain, maxlen = args[1], args[2], args[3], args[4]
      local stream = prefix .. 'q:' .. domain
      local i = 5
      local n = tonumber(args[i]); i = i + 1
      local acked = 0
      for _ = 1, n do
        local id, qid, nfinal, member, due = args[i], args[i + 1], tonumber(args[i + 2]), args[i + 3], args[i + 4]
        local nevents = tonumber(args[i + 5])
        local first_event = i + 6
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
            local msg = prefix .. 'msg:' .. qid
            if redis.call('HINCRBY', msg, 'remaining', -nfinal) <= 0 then
              redis.call('DEL', msg, prefix .. 'body:' .. qid)
            end
          end
          for j = first_event, first_event + nevents - 1 do
            redis.call('XADD', prefix .. 'events', 'MAXLEN', '~', maxlen, '*', 'e', args[j])
          end
        end
      end
      -- The ready score is left alone while work remains: new entries already made the
      -- domain due (enqueue and promote use ZADD LT), and entries other workers hold are
      -- looked at again by hk_claim when their claims could lapse.
      if redis.call('XLEN', stream) == 0 then
        if redis.call('EXISTS', stream) == 1 then redis.call('DEL', stream) end
        redis.call('ZREM', prefix .. 'ready', domain)
      end
      return acked
    end)

    -- hk_promote: prefix, limit — moves deferred work whose time has come back to its
    -- domain's stream. Member: entry_id TAB domain TAB qid TAB attempts TAB accepted_ms TAB rcpts(LF).
    redis.register_function('hk_promote', function(keys, args)
      local prefix, limit = args[1], tonumber(args[2])
      local deferred = prefix .. 'deferred'
      local now = now_ms()
      local due = redis.call('ZRANGE', deferred, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit)
      for _, member in ipairs(due) do
        local parts = {}
        for part in string.gmatch(member, '([^\t]*)\t?') do
          parts[#parts + 1] = part
          if #parts == 6 then break end
        end
        add_work(prefix, parts[2], {'q', parts[3], 'r', parts[6], 'n', parts[4], 't', parts[5]}, now)
        redis.call('ZREM', deferred, member)
      end
      return #due
    end)
    """#
}
