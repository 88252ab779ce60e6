#!lua name=hikyaku_campaigns
-- Campaign state (CampaignStore.swift): compare-and-set steps on a campaign's hash, so an
-- operator's cancel is final even while a runner is writing, and the cursor never moves
-- back. The rows' own at-most-once mark is in hk_enqueue (hikyaku.lua).
--
-- Every key is passed in KEYS (QueueKeys.swift).

-- hkc_state
--   KEYS: camp:<id>
--   ARGV: new_state, reason ('' clears it), now_ms, allowed_from...
-- Sets `state` (and `reason`, `updated`) if the current state is one of allowed_from.
-- Returns the previous state, or '' when the campaign is missing or in another state.
redis.register_function('hkc_state', function(keys, args)
  local current = redis.call('HGET', keys[1], 'state')
  if not current then return '' end
  for i = 4, #args do
    if args[i] == current then
      redis.call('HSET', keys[1], 'state', args[1], 'updated', args[3])
      if args[2] == '' then redis.call('HDEL', keys[1], 'reason') else redis.call('HSET', keys[1], 'reason', args[2]) end
      return current
    end
  end
  return ''
end)

-- hkc_advance
--   KEYS: camp:<id>
--   ARGV: cursor
-- Moves `cursor` forward to ARGV[1] (never back: two runners overlapping on a lost lease
-- cannot undo each other). Returns the cursor now.
redis.register_function('hkc_advance', function(keys, args)
  if redis.call('EXISTS', keys[1]) == 0 then return -1 end
  local current = tonumber(redis.call('HGET', keys[1], 'cursor') or '0')
  local wanted = tonumber(args[1])
  if wanted > current then
    redis.call('HSET', keys[1], 'cursor', wanted)
    return wanted
  end
  return current
end)
