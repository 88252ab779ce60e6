#!lua name=hikyaku_accounts
-- Accounts (tenants), their sending domains' DKIM keys and the SMTP AUTH lockout
-- (AccountStore.swift). The keys and who may touch them: docs/KEY-LAYOUT.md.
--
-- Every key is passed in KEYS (QueueKeys.swift), except those listed in
-- docs/KEY-LAYOUT.md, built from a stem the caller passes in ARGV.

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- hka_account_put
--   KEYS: acct:<name>, accounts, acct:version
--   ARGV: name, json, mode
-- Mode `create` refuses an existing name, `update` a missing one.
redis.register_function('hka_account_put', function(keys, args)
  local key, accounts, version = keys[1], keys[2], keys[3]
  local name, json, mode = args[1], args[2], args[3]
  local exists = redis.call('EXISTS', key) == 1
  if mode == 'create' and exists then return redis.error_reply('EXISTS account ' .. name .. ' already exists') end
  if mode == 'update' and not exists then return redis.error_reply('NOACCOUNT no account ' .. name) end
  redis.call('SET', key, json)
  redis.call('SADD', accounts, name)
  redis.call('INCR', version)
  return 1
end)

-- hka_account_delete
--   KEYS: acct:<name>, acct:<name>:paused, acct:<name>:apikeys, accounts, acct:version
--   ARGV: name, apikey_stem
-- The account, its pause and its API keys gone.
-- Keys built here: apikey:<sha256> of each of its keys (known only once read).
redis.register_function('hka_account_delete', function(keys, args)
  local name, apikey_stem = args[1], args[2]
  for _, hash in ipairs(redis.call('HVALS', keys[3])) do
    redis.call('DEL', apikey_stem .. hash)
  end
  local removed = redis.call('DEL', keys[1], keys[2], keys[3])
  redis.call('SREM', keys[4], name)
  redis.call('INCR', keys[5])
  return removed > 0 and 1 or 0
end)

-- hka_account_pause
--   KEYS: acct:<name>:paused, acct:version, events
--   ARGV: name, event, events_maxlen, acct:<name>
-- 1 when newly paused, 0 when it was.
-- Key read here, not declared: acct:<name>, only to see that it exists. Declared keys
-- need write access (FCALL's key specs), and the console's Redis user, which pauses
-- accounts from its operator pages, may only read accounts.
redis.register_function('hka_account_pause', function(keys, args)
  local name, event, maxlen, account = args[1], args[2], args[3], args[4]
  if redis.call('EXISTS', account) == 0 then return redis.error_reply('NOACCOUNT no account ' .. name) end
  if redis.call('SET', keys[1], event, 'NX') == false then return 0 end
  redis.call('INCR', keys[2])
  redis.call('XADD', keys[3], 'MAXLEN', '~', maxlen, '*', 'e', event)
  return 1
end)

-- hka_account_resume
--   KEYS: acct:<name>:paused, acct:version, events
--   ARGV: name, event, events_maxlen, window_hours, bounces_stem (bounces:<name>:), acct:<name>
-- Lifts a pause and forgets the bounce statistics it was judged on (else the next bounce
-- would pause the account again at once). 1 when it was paused.
-- Keys built here: `<bounces_stem><hour>` for the hours of the window, which are
-- Redis's (TIME); read, not declared: acct:<name> (as for hka_account_pause).
redis.register_function('hka_account_resume', function(keys, args)
  local name, event, maxlen, window, bounces_stem, account = args[1], args[2], args[3], tonumber(args[4]), args[5], args[6]
  if redis.call('EXISTS', account) == 0 then return redis.error_reply('NOACCOUNT no account ' .. name) end
  local hour = math.floor(now_ms() / 3600000)
  for h = hour - window, hour do redis.call('DEL', bounces_stem .. h) end
  if redis.call('DEL', keys[1]) == 0 then return 0 end
  redis.call('INCR', keys[2])
  redis.call('XADD', keys[3], 'MAXLEN', '~', maxlen, '*', 'e', event)
  return 1
end)

-- hka_apikey_add
--   KEYS: acct:<account>, apikey:<sha256>, acct:<account>:apikeys
--   ARGV: account, id, hash, json
-- The key itself is never stored.
redis.register_function('hka_apikey_add', function(keys, args)
  local account, id, hash, json = args[1], args[2], args[3], args[4]
  if redis.call('EXISTS', keys[1]) == 0 then return redis.error_reply('NOACCOUNT no account ' .. account) end
  redis.call('SET', keys[2], json)
  redis.call('HSET', keys[3], id, hash)
  return 1
end)

-- hka_apikey_revoke
--   KEYS: acct:<account>:apikeys
--   ARGV: id, apikey_stem
-- 1 when it existed.
-- Keys built here: apikey:<sha256> of the key (known only once read).
redis.register_function('hka_apikey_revoke', function(keys, args)
  local id, apikey_stem = args[1], args[2]
  local hash = redis.call('HGET', keys[1], id)
  if not hash then return 0 end
  redis.call('DEL', apikey_stem .. hash)
  redis.call('HDEL', keys[1], id)
  return 1
end)

-- hka_domain_put
--   KEYS: domain:<domain>, domains, acct:version
--   ARGV: domain, json
-- Stores a sending domain and its DKIM keys.
redis.register_function('hka_domain_put', function(keys, args)
  redis.call('SET', keys[1], args[2])
  redis.call('SADD', keys[2], args[1])
  redis.call('INCR', keys[3])
  return 1
end)

-- hka_domain_delete
--   KEYS: domain:<domain>, domains, acct:version
--   ARGV: domain
-- 1 when it existed.
redis.register_function('hka_domain_delete', function(keys, args)
  local removed = redis.call('DEL', keys[1])
  redis.call('SREM', keys[2], args[1])
  redis.call('INCR', keys[3])
  return removed
end)

local function locked_for(key, now)
  return tonumber(redis.call('HGET', key, 'until') or '0') - now
end

-- hk_auth_gate
--   KEYS: authfail:ip:<ip>, authfail:user:<user>, authok:<ip>|<user>
--   ARGV: (none)
-- Milliseconds the address or the user is still locked out (0: none). The user's lockout
-- does not apply at an address where the user logged in before (authok), so guessing
-- elsewhere cannot lock the real user out.
redis.register_function('hk_auth_gate', function(keys, args)
  local now = now_ms()
  local wait = math.max(0, locked_for(keys[1], now))
  local user_wait = locked_for(keys[2], now)
  if user_wait > wait and redis.call('EXISTS', keys[3]) == 0 then
    wait = user_wait
  end
  return wait
end)

-- hk_auth_failed
--   KEYS: authfail:ip:<ip>, authfail:user:<user>
--   ARGV: threshold, base_ms, max_ms
-- Counts a failure for the address and the user; from the threshold on, each further
-- failure locks both out for twice as long as the one before (base, 2 x base, 4 x base
-- ... up to max). Returns the lockout now in force (ms). Counters are forgotten a day
-- after the last failure.
redis.register_function('hk_auth_failed', function(keys, args)
  local threshold, base, max = tonumber(args[1]), tonumber(args[2]), tonumber(args[3])
  local now = now_ms()
  local longest = 0
  for _, key in ipairs({keys[1], keys[2]}) do
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

-- hk_auth_succeeded
--   KEYS: authok:<ip>|<user>, authfail:user:<user>
--   ARGV: known_ms
-- A correct password remembers the address for the user (known_ms 0: not), and clears
-- the user's count unless a lockout is in force (a login from a known address must not
-- reset what a guesser elsewhere built up). Never the address's count: one valid login
-- must not reset an address that guesses at others.
redis.register_function('hk_auth_succeeded', function(keys, args)
  local known = tonumber(args[1])
  if known > 0 then
    redis.call('SET', keys[1], '1', 'PX', known)
  end
  if locked_for(keys[2], now_ms()) <= 0 then redis.call('DEL', keys[2]) end
  return 1
end)
