#!lua name=hikyaku_bounces
-- What the bounce listener (`--role bounce`) records from inbound reports: complaints and
-- the account pause they can cause (InboundReportStore.swift). The keys and who may touch
-- them: docs/KEY-LAYOUT.md.
--
-- Every key is passed in KEYS (QueueKeys.swift), except those listed in
-- docs/KEY-LAYOUT.md, built from a stem the caller passes in ARGV.

local function replace_plain(text, from, to)
  local out, start = {}, 1
  while true do
    local s, e = string.find(text, from, start, true)
    if not s then break end
    out[#out + 1] = string.sub(text, start, s - 1)
    out[#out + 1] = to
    start = e + 1
  end
  out[#out + 1] = string.sub(text, start)
  return table.concat(out)
end

-- hkb_complaint
--   KEYS: events, acct:<account>:paused, acct:version, cmpl:<qid>:<recipient>
--   ARGV: events_maxlen, complaint_event, account, threshold_ppm, min_deliveries,
--         window_hours, bounces_stem (bounces:<account>:), pause_event, seen_ttl_s
-- Writes the `complaint` event and counts it in the account's hour (beside the
-- deliveries hk_complete counts there). When complaints ÷ deliveries over the last
-- `window_hours` exceed the threshold (parts per million; 0 turns it off), judged once
-- there are `min_deliveries`, the account is paused and `pause_event` (%RATE% filled in)
-- written. Returns 1 when this complaint paused the account, -1 when this message and
-- recipient had a complaint counted already (`seen_ttl_s`; nothing is written: a reader
-- complains once per message, and forged repeats must not pause an account).
-- Keys built here: `<bounces_stem><hour>` for the hours of the window, which are Redis's
-- (TIME).
redis.register_function('hkb_complaint', function(keys, args)
  local events, paused, version = keys[1], keys[2], keys[3]
  local maxlen, event, account = args[1], args[2], args[3]
  local threshold, min_deliveries, window = tonumber(args[4]), tonumber(args[5]), tonumber(args[6])
  local bounces_stem, pause_event = args[7], args[8]
  if not redis.call('SET', keys[4], '1', 'NX', 'EX', tonumber(args[9])) then return -1 end
  redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'e', event)
  if account == '' then return 0 end
  local t = redis.call('TIME')
  local hour = math.floor(tonumber(t[1]) / 3600)
  local key = bounces_stem .. hour
  redis.call('HINCRBY', key, 'complaints', 1)
  -- Never shorten the life hk_complete gave the hour (it keeps it for the longer window).
  if redis.call('TTL', key) < (window + 1) * 3600 then
    redis.call('EXPIRE', key, (window + 1) * 3600)
  end
  if threshold <= 0 or redis.call('EXISTS', paused) == 1 then return 0 end
  local delivered, complaints = 0, 0
  for h = hour - window + 1, hour do
    local v = redis.call('HMGET', bounces_stem .. h, 'delivered', 'complaints')
    delivered = delivered + tonumber(v[1] or '0')
    complaints = complaints + tonumber(v[2] or '0')
  end
  if delivered < min_deliveries or complaints * 1000000 <= threshold * delivered then return 0 end
  local rate = string.format('%.2f%% (%d complaints for %d deliveries in %dh)', complaints * 100 / delivered,
    complaints, delivered, window)
  local pause = replace_plain(replace_plain(pause_event, '%ACCOUNT%', account), '%RATE%', rate)
  redis.call('SET', paused, pause)
  redis.call('INCR', version)
  redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'e', pause)
  return 1
end)
