/**
 * The Lua scripts of the Redis engines. Each runs atomically on the node that owns the
 * channel's slot, so concurrent publishers on any number of Herald nodes see one
 * serial order per channel. Seqs are stream ids `<ms>-<n>`; Lua numbers are doubles,
 * exact for integers up to 2^53, which covers millisecond clocks for a long while.
 *
 * Retention mirrors memory-store.ts exactly (the conformance suite is the spec):
 * - history is the newest `size` entries of the stream, none older than `ttl` ms;
 * - the stream itself may hold a chunk more (10% of `size`, at least 10, at most 100
 *   entries): a full stream is trimmed once per chunk of publishes (to `size + 1`
 *   entries), not on every publish, and HISTORY_LUA counts: a `since` with more than
 *   `size` entries after it lies before the window, whatever the stream still holds;
 * - the stream key expires `ttl` ms after the last publish, the meta hash `metaTtl` ms
 *   after it, so a quiet channel's position (top) outlives its events;
 * - `floor` in the meta hash is the newest seq the stream no longer holds, or that fell
 *   out of the window when the stream was last trimmed (or the first seq of a fresh
 *   log): history is complete exactly for `since >= floor` with at most `size` entries
 *   after `since`.
 */

/** The value of an event key while the cluster path is publishing the event. */
export const EVENT_PENDING = 'p';

const HELPERS = `
local function parse(id)
  local ms, n = string.match(id, '^(%d+)%-(%d+)$')
  return tonumber(ms), tonumber(n)
end
local function cmp(a, b)
  local am, an = parse(a)
  local bm, bn = parse(b)
  if am ~= bm then if am < bm then return -1 else return 1 end end
  if an ~= bn then if an < bn then return -1 else return 1 end end
  return 0
end
local function later(a, b)
  if cmp(a, b) >= 0 then return a end
  return b
end
local function id(ms, n)
  return string.format('%.0f-%.0f', ms, n)
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * The publication step shared by PUBLISH_LUA and EVENTS_LUA: common ARGV 1..5 (size,
 * ttl ms, meta ttl ms, dedupe ttl ms, 'publish' | 'spublish') and
 * publish_one(stream, meta, dedupe key or nil, pub/sub channel, head, tail) -> seq, 0|1.
 */
const PUBLISH_ONE = `${HELPERS}
local size, ttl, meta_ttl, dedupe_ttl, publish = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
local now = now_ms()
local now_seq = id(now, 0)
local cutoff = now - ttl
-- Expiries are refreshed at most once per 'slack' ms per channel, each time to 'slack'
-- beyond what a publish needs: every key still lives at least ttl (meta ttl) after the
-- channel's last publish, and at most slack longer. Entries older than ttl count as
-- dropped whether or not their key has expired yet (HISTORY_LUA), so nothing a client
-- sees changes; one PEXPIRE pair per second instead of one per publish.
local slack = math.min(1000, math.floor(ttl / 4))
-- A full stream grows this many entries past the window before it is trimmed: one XTRIM
-- and one one-entry XRANGE per chunk instead of both on every publish, for at most
-- 10% more entries (at least 10, at most 100).
local chunk = math.min(100, math.max(10, math.floor(size / 10)))

local function publish_one(stream, meta, dedupe, channel, head, tail)
  -- 1. Dedupe: a key seen within its window publishes nothing.
  if dedupe then
    local first = redis.call('GET', dedupe)
    if first then return first, 1 end
  end

  -- 2. Assign the seq: the server clock, but always above the remembered top, so it
  -- keeps increasing across publishers, clock steps and expired streams.
  --   age: no entry can be older than ttl before this time (oldest entry + ttl)
  --   fresh: the keys' expiries cover a publish until this time
  local m = redis.call('HMGET', meta, 'top', 'floor', 'age', 'fresh')
  local top, age_at, fresh_until = m[1], tonumber(m[3]), tonumber(m[4])
  local len = redis.call('XLEN', stream)
  local ms, seq, floor
  if top then
    local top_ms_text, top_n_text = string.match(top, '^(%d+)%-(%d+)$')
    local top_ms = tonumber(top_ms_text)
    if now > top_ms then
      ms, seq = now, now_seq
    else
      ms, seq = top_ms, top_ms_text .. '-' .. (tonumber(top_n_text) + 1)
    end
    -- An empty stream: every event expired or was trimmed, history restarts at top (and
    -- the log's first event is gone: history from the origin is no longer whole).
    if len > 0 then
      floor = m[2] or top
    else
      floor = top
      redis.call('HDEL', meta, 'origin')
    end
  else
    -- Unknown channel (new, forgotten, or data lost): a fresh log, complete from its
    -- first seq only. Leftovers of an older stream must not pass for its history.
    if len > 0 then redis.call('DEL', stream) end
    len = 0
    ms, seq = now, now_seq
    floor = seq
    redis.call('HSET', meta, 'origin', seq)
  end
  if len == 0 then
    -- The stream is (re)created by this publish: it has no expiry yet, and its oldest
    -- entry is this one.
    fresh_until = nil
    age_at = ms + ttl
  end

  -- 3. Append the complete envelope.
  local envelope = head .. seq .. tail
  redis.call('XADD', stream, seq, 'e', envelope)
  len = len + 1

  -- 4. Trim by size, then by age. Trimming only makes the oldest entry newer, so age_at
  -- stays a safe lower bound.
  -- By size, in chunks: the stream keeps size + 1 entries, and the oldest of them, the
  -- newest one outside the window, is the floor. Every entry the stream no longer holds
  -- is older, so the floor covers them; entries that leave the window between trims are
  -- found by HISTORY_LUA's count. Nothing is read per publish while the stream grows.
  if len > size + chunk then
    redis.call('XTRIM', stream, 'MAXLEN', size + 1)
    floor = later(floor, redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1][1])
    len = size + 1
  end
  -- Usually nothing is that old, and age_at says so without reading the stream.
  if cutoff > 0 and (age_at == nil or now > age_at) then
    local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
    age_at = now
    if oldest then
      local oldest_ms = parse(oldest[1])
      if oldest_ms < cutoff then
        local bound = id(cutoff, 0)
        local aged = redis.call('XREVRANGE', stream, '(' .. bound, '-', 'COUNT', 1)[1]
        if aged then floor = later(floor, aged[1]) end
        redis.call('XTRIM', stream, 'MINID', bound)
      else
        age_at = oldest_ms + ttl
      end
    end
  end

  -- 5. Refresh expiries and the meta hash; remember the idempotency key.
  if fresh_until == nil or now > fresh_until then
    fresh_until = now + slack
    redis.call('PEXPIRE', stream, ttl + slack)
    redis.call('PEXPIRE', meta, meta_ttl + slack)
  end
  redis.call('HSET', meta, 'top', seq, 'floor', floor, 'age', age_at, 'fresh', fresh_until)
  if dedupe then redis.call('SET', dedupe, seq, 'PX', dedupe_ttl) end

  -- 6. Hand it to live subscribers: "<seq> <envelope>".
  redis.call(publish, channel, seq .. ' ' .. envelope)
  return seq, 0
end
`;

/**
 * Publishes one or more publications in one call (a batch shares the call's overhead:
 * one command to build, send and parse instead of one per publication). In a cluster
 * every key of one call must be in one slot, so callers group by slot.
 *
 * KEYS: per publication, stream and meta, then its dedupe key when it has one.
 * ARGV: size, ttl ms, meta ttl ms, dedupe ttl ms, 'publish' | 'spublish', then per
 *       publication: pub/sub channel, envelope head, envelope tail, '1' when it has a
 *       dedupe key else '0'.
 * Returns per publication {seq, 0} or, for a known idempotency key, {first seq, 1},
 * flattened: {seq1, dup1, seq2, dup2, ...}.
 */
export const PUBLISH_LUA = `${PUBLISH_ONE}
local out = {}
local k = 1
for a = 6, #ARGV, 4 do
  local stream, meta, dedupe = KEYS[k], KEYS[k + 1], nil
  k = k + 2
  if ARGV[a + 3] == '1' then
    dedupe = KEYS[k]
    k = k + 1
  end
  local seq, duplicate = publish_one(stream, meta, dedupe, ARGV[a], ARGV[a + 1], ARGV[a + 2])
  out[#out + 1] = seq
  out[#out + 1] = duplicate
end
return out
`;

/**
 * Publishes whole events with event-level idempotency, on one Redis (every key of an
 * event in one call: a cluster spreads them over slots and uses the claim / publish /
 * complete steps instead, see event-store.ts). Each event is atomic: its id is checked,
 * the event published to every channel and its id recorded in one step, so a retry
 * can never find it half-published, and no per-channel dedupe key is needed.
 *
 * KEYS: per event, its event key, then per channel: stream, meta, dedupe key.
 * ARGV: the five of PUBLISH_ONE, then per event: how long its id is remembered (ms),
 *       channel count, the JSON array of its channels (the record kept under the event
 *       key), then per channel: pub/sub channel, envelope head, envelope tail.
 * Returns per event {duplicate 0|1, first channels JSON or false}, flattened.
 */
export const EVENTS_LUA = `${PUBLISH_ONE}
local out = {}
local k, a = 1, 6
while a <= #ARGV do
  local event_ttl, count, channels = ARGV[a], tonumber(ARGV[a + 1]), ARGV[a + 2]
  a = a + 3
  local event_key = KEYS[k]
  k = k + 1
  local previous = redis.call('GET', event_key)
  if previous and previous ~= '${EVENT_PENDING}' then
    -- Published before: nothing to do; the record names the channels.
    out[#out + 1] = 1
    out[#out + 1] = previous
    k = k + 3 * count
    a = a + 3 * count
  else
    -- '${EVENT_PENDING}': an attempt through the cluster path may have published to some
    -- channels, and their dedupe keys say which; a new event needs no dedupe key.
    local all_duplicates = count > 0
    for c = 1, count do
      local dedupe = nil
      if previous then dedupe = KEYS[k + 2] end
      local _, duplicate = publish_one(KEYS[k], KEYS[k + 1], dedupe, ARGV[a], ARGV[a + 1], ARGV[a + 2])
      if duplicate == 0 then all_duplicates = false end
      k = k + 3
      a = a + 3
    end
    redis.call('SET', event_key, channels, 'PX', event_ttl)
    out[#out + 1] = all_duplicates and 1 or 0
    out[#out + 1] = false
  end
end
return out
`;

/** Reply codes of HISTORY_LUA (first element of the reply). */
export const HistoryCode = {
  unknownChannel: 0,
  futureSeq: 1,
  trimmed: 2,
  expired: 3,
  complete: 4,
} as const;

/**
 * KEYS: stream, meta
 * ARGV: since, ttl ms, size
 * Returns {code} or {4, seq1, envelope1, seq2, envelope2, ...}. Read-only: entries
 * older than ttl that no publish has trimmed yet count as dropped, and so do entries
 * beyond the newest `size` that the next chunk trim will drop (PUBLISH_ONE step 4).
 */
export const HISTORY_LUA = `${HELPERS}
local stream, meta = KEYS[1], KEYS[2]
local since, ttl, size = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])

local m = redis.call('HMGET', meta, 'top', 'floor', 'origin')
local top, floor, origin = m[1], m[2], m[3]
if not top then return {0} end
if cmp(since, top) > 0 then return {1} end
if redis.call('EXISTS', stream) == 0 then
  if cmp(since, top) < 0 then return {3} end
  return {4}
end
floor = floor or top

-- Whether history still has an entry: the newest one, unless it aged out (or size is 0).
local remaining = size > 0 and redis.call('XLEN', stream) > 0
local cutoff = now_ms() - ttl
if cutoff > 0 then
  local bound = id(cutoff, 0)
  local aged = redis.call('XREVRANGE', stream, '(' .. bound, '-', 'COUNT', 1)[1]
  if aged then
    floor = later(floor, aged[1])
    remaining = size > 0 and #redis.call('XRANGE', stream, bound, '+', 'COUNT', 1) > 0
  end
end
-- From the origin (0-0: the caller saw the channel with no position): the whole log,
-- while the stream still holds its first event unaged (entries leave oldest first) and
-- the window covers it.
local first = '(' .. since
if since == '0-0' and origin then
  local head = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
  if head and head[1] == origin and (cutoff <= 0 or parse(origin) >= cutoff) then first = origin end
end
if first == '(' .. since and cmp(since, floor) < 0 then
  if remaining then return {2} end
  return {3}
end

-- More than size entries after since: the first of them is outside the window, so
-- history from since would have a gap (the stream may still hold it until the next trim).
local entries = redis.call('XRANGE', stream, first, '+', 'COUNT', size + 1)
if #entries > size then
  if remaining then return {2} end
  return {3}
end
local out = {4}
for i = 1, #entries do
  out[2 * i] = entries[i][1]
  out[2 * i + 1] = entries[i][2][2]
end
return out
`;
