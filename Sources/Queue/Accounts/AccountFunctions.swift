/// The third Redis Functions library, `hikyaku_accounts`: accounts (tenants), their
/// sending domains' DKIM keys and the SMTP AUTH lockout, loaded by `MessageQueue.prepare`
/// with the others.
///
/// Keys (after the prefix, default `hk:`):
///
/// | key | type | holds |
/// |---|---|---|
/// | `accounts` | set | every account name |
/// | `acct:<name>` | string | the account as JSON (`RelayCore.Account`) |
/// | `acct:<name>:paused` | string | the `paused` event while the account is paused |
/// | `acct:version` | integer | bumped on every change (accounts or domains), so ingest nodes reload |
/// | `acct:<name>:apikeys` | hash | API key id → SHA-256 of the key |
/// | `apikey:<sha256>` | string | `{account, id, label, created_at}` of that key |
/// | `domains` | set | every sending domain with DKIM keys |
/// | `domain:<domain>` | string | the domain and its keys as JSON (`RelayCore.SendingDomain`) |
/// | `quota:<name>:h:<hour>`, `quota:<name>:d:<day>` | integer | recipients accepted (hk_enqueue) |
/// | `bounces:<name>:<hour>` | hash | `delivered`, `bounced` (hk_complete) |
/// | `authfail:ip:<ip>`, `authfail:user:<name>` | hash | `n` failures, locked `until` (ms); `<ip>` an IPv6 client's /64 |
/// | `authok:<ip>\|<name>` | string | `<name>` logged in from `<ip>` (its /64) within `accounts.auth_known_address_ttl` |
enum AccountFunctions {
    static let source = #"""
    #!lua name=hikyaku_accounts

    local function now_ms()
      local t = redis.call('TIME')
      return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    end

    -- hka_account_put: prefix, name, json, mode — mode `create` refuses an existing name,
    -- `update` a missing one.
    redis.register_function('hka_account_put', function(keys, args)
      local prefix, name, json, mode = args[1], args[2], args[3], args[4]
      local key = prefix .. 'acct:' .. name
      local exists = redis.call('EXISTS', key) == 1
      if mode == 'create' and exists then return redis.error_reply('EXISTS account ' .. name .. ' already exists') end
      if mode == 'update' and not exists then return redis.error_reply('NOACCOUNT no account ' .. name) end
      redis.call('SET', key, json)
      redis.call('SADD', prefix .. 'accounts', name)
      redis.call('INCR', prefix .. 'acct:version')
      return 1
    end)

    -- hka_account_delete: prefix, name — the account, its pause and counters' owner gone.
    redis.register_function('hka_account_delete', function(keys, args)
      local prefix, name = args[1], args[2]
      for _, hash in ipairs(redis.call('HVALS', prefix .. 'acct:' .. name .. ':apikeys')) do
        redis.call('DEL', prefix .. 'apikey:' .. hash)
      end
      local removed = redis.call('DEL', prefix .. 'acct:' .. name, prefix .. 'acct:' .. name .. ':paused',
                                 prefix .. 'acct:' .. name .. ':apikeys')
      redis.call('SREM', prefix .. 'accounts', name)
      redis.call('INCR', prefix .. 'acct:version')
      return removed > 0 and 1 or 0
    end)

    -- hka_account_pause: prefix, name, event, maxlen — 1 when newly paused, 0 when it was.
    redis.register_function('hka_account_pause', function(keys, args)
      local prefix, name, event, maxlen = args[1], args[2], args[3], args[4]
      if redis.call('EXISTS', prefix .. 'acct:' .. name) == 0 then return redis.error_reply('NOACCOUNT no account ' .. name) end
      if redis.call('SET', prefix .. 'acct:' .. name .. ':paused', event, 'NX') == false then return 0 end
      redis.call('INCR', prefix .. 'acct:version')
      redis.call('XADD', prefix .. 'events', 'MAXLEN', '~', maxlen, '*', 'e', event)
      return 1
    end)

    -- hka_account_resume: prefix, name, event, maxlen, window_hours — lifts a pause and
    -- forgets the bounce statistics it was judged on (else the next bounce would pause
    -- the account again at once). 1 when it was paused.
    redis.register_function('hka_account_resume', function(keys, args)
      local prefix, name, event, maxlen, window = args[1], args[2], args[3], args[4], tonumber(args[5])
      if redis.call('EXISTS', prefix .. 'acct:' .. name) == 0 then return redis.error_reply('NOACCOUNT no account ' .. name) end
      local hour = math.floor(now_ms() / 3600000)
      for h = hour - window, hour do redis.call('DEL', prefix .. 'bounces:' .. name .. ':' .. h) end
      if redis.call('DEL', prefix .. 'acct:' .. name .. ':paused') == 0 then return 0 end
      redis.call('INCR', prefix .. 'acct:version')
      redis.call('XADD', prefix .. 'events', 'MAXLEN', '~', maxlen, '*', 'e', event)
      return 1
    end)

    -- hka_apikey_add: prefix, account, id, hash, json — the key itself is never stored.
    redis.register_function('hka_apikey_add', function(keys, args)
      local prefix, account, id, hash, json = args[1], args[2], args[3], args[4], args[5]
      if redis.call('EXISTS', prefix .. 'acct:' .. account) == 0 then return redis.error_reply('NOACCOUNT no account ' .. account) end
      redis.call('SET', prefix .. 'apikey:' .. hash, json)
      redis.call('HSET', prefix .. 'acct:' .. account .. ':apikeys', id, hash)
      return 1
    end)

    -- hka_apikey_revoke: prefix, account, id — 1 when it existed.
    redis.register_function('hka_apikey_revoke', function(keys, args)
      local prefix, account, id = args[1], args[2], args[3]
      local hash = redis.call('HGET', prefix .. 'acct:' .. account .. ':apikeys', id)
      if not hash then return 0 end
      redis.call('DEL', prefix .. 'apikey:' .. hash)
      redis.call('HDEL', prefix .. 'acct:' .. account .. ':apikeys', id)
      return 1
    end)

    -- hka_domain_put: prefix, domain, json — stores a sending domain and its DKIM keys.
    redis.register_function('hka_domain_put', function(keys, args)
      local prefix, domain, json = args[1], args[2], args[3]
      redis.call('SET', prefix .. 'domain:' .. domain, json)
      redis.call('SADD', prefix .. 'domains', domain)
      redis.call('INCR', prefix .. 'acct:version')
      return 1
    end)

    -- hka_domain_delete: prefix, domain — 1 when it existed.
    redis.register_function('hka_domain_delete', function(keys, args)
      local prefix, domain = args[1], args[2]
      local removed = redis.call('DEL', prefix .. 'domain:' .. domain)
      redis.call('SREM', prefix .. 'domains', domain)
      redis.call('INCR', prefix .. 'acct:version')
      return removed
    end)

    local function locked_for(key, now)
      return tonumber(redis.call('HGET', key, 'until') or '0') - now
    end

    -- hk_auth_gate: prefix, ip, user — milliseconds the address or the user is still locked
    -- out (0: none). The user's lockout does not apply at an address where the user logged
    -- in before (authok), so guessing elsewhere cannot lock the real user out. The address
    -- key holds no '|', so `ip|user` names one pair only.
    redis.register_function('hk_auth_gate', function(keys, args)
      local prefix, ip, user = args[1], args[2], args[3]
      local now = now_ms()
      local wait = math.max(0, locked_for(prefix .. 'authfail:ip:' .. ip, now))
      local user_wait = locked_for(prefix .. 'authfail:user:' .. user, now)
      if user_wait > wait and redis.call('EXISTS', prefix .. 'authok:' .. ip .. '|' .. user) == 0 then
        wait = user_wait
      end
      return wait
    end)

    -- hk_auth_failed: prefix, ip, user, threshold, base_ms, max_ms — counts a failure for
    -- the address and the user; from the threshold on, each further failure locks both out
    -- for twice as long as the one before (base, 2×base, 4×base … up to max). Returns the
    -- lockout now in force (ms). Counters are forgotten a day after the last failure.
    redis.register_function('hk_auth_failed', function(keys, args)
      local prefix, ip, user = args[1], args[2], args[3]
      local threshold, base, max = tonumber(args[4]), tonumber(args[5]), tonumber(args[6])
      local now = now_ms()
      local longest = 0
      for _, key in ipairs({prefix .. 'authfail:ip:' .. ip, prefix .. 'authfail:user:' .. user}) do
        local n = redis.call('HINCRBY', key, 'n', 1)
        if n >= threshold then
          local lock = math.floor(base * 2 ^ math.min(n - threshold, 30))
          if lock > max then lock = max end
          redis.call('HSET', key, 'until', string.format('%d', now + lock))
          if lock > longest then longest = lock end
        end
        redis.call('PEXPIRE', key, math.max(86400000, max))
      end
      return longest
    end)

    -- hk_auth_succeeded: prefix, ip, user, known_ms — a correct password remembers the
    -- address for the user (known_ms 0: not), and clears the user's count unless a lockout
    -- is in force (a login from a known address must not reset what a guesser elsewhere
    -- built up). Never the address's count: one valid login must not reset an address
    -- that guesses at others.
    redis.register_function('hk_auth_succeeded', function(keys, args)
      local prefix, ip, user, known = args[1], args[2], args[3], tonumber(args[4])
      if known > 0 then
        redis.call('SET', prefix .. 'authok:' .. ip .. '|' .. user, '1', 'PX', known)
      end
      local key = prefix .. 'authfail:user:' .. user
      if locked_for(key, now_ms()) <= 0 then redis.call('DEL', key) end
      return 1
    end)
    """#
}
