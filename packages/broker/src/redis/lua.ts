/**
 * The Lua scripts of the Redis engines. Each runs atomically on the node that owns the
 * channel's slot, so concurrent publishers on any number of Herald nodes see one
 * serial order per channel. Seqs are stream ids `<ms>-<n>`; Lua numbers are doubles,
 * exact for integers up to 2^53, which covers millisecond clocks for a long while.
 *
 * Retention mirrors memory-store.ts exactly (the conformance suite is the spec):
 * - the stream keeps at most `size` entries and none older than `ttl` ms;
 * - the stream key expires `ttl` ms after the last publish, the meta hash `metaTtl` ms
 *   after it, so a quiet channel's position (top) outlives its events;
 * - `floor` in the meta hash is the newest seq ever dropped (or the first seq of a
 *   fresh log): history is complete exactly for `since >= floor`.
 */

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
 * KEYS: stream, meta, [dedupe]
 * ARGV: pub/sub channel, envelope head, envelope tail, size, ttl ms, meta ttl ms,
 *       dedupe ttl ms, 'publish' | 'spublish'
 * Returns {seq, 0} or, for a known idempotency key, {first seq, 1}.
 */
export const PUBLISH_LUA = `${HELPERS}
local stream, meta, dedupe = KEYS[1], KEYS[2], KEYS[3]

-- 1. Dedupe: a key seen within its window publishes nothing.
if dedupe then
  local first = redis.call('GET', dedupe)
  if first then return {first, 1} end
end

local size, ttl, meta_ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local now = now_ms()

-- 2. Assign the seq: the server clock, but always above the remembered top, so it
-- keeps increasing across publishers, clock steps and expired streams.
local top = redis.call('HGET', meta, 'top')
local ms, n, floor
if top then
  local top_ms, top_n = parse(top)
  if now > top_ms then ms, n = now, 0 else ms, n = top_ms, top_n + 1 end
  if redis.call('EXISTS', stream) == 1 then
    floor = redis.call('HGET', meta, 'floor') or top
  else
    -- Every event expired: only the position survived, history restarts at top.
    floor = top
  end
else
  -- Unknown channel (new, forgotten, or data lost): a fresh log, complete from its
  -- first seq only. Leftovers of an older stream must not pass for its history.
  redis.call('DEL', stream)
  ms, n = now, 0
end
local seq = id(ms, n)
floor = floor or seq

-- 3. Append the complete envelope.
local envelope = ARGV[2] .. seq .. ARGV[3]
redis.call('XADD', stream, seq, 'e', envelope)

-- 4. Trim by size, then by age, remembering the newest dropped seq as the floor.
local len = redis.call('XLEN', stream)
if len > size then
  local dropped = redis.call('XRANGE', stream, '-', '+', 'COUNT', len - size)
  floor = later(floor, dropped[#dropped][1])
  redis.call('XTRIM', stream, 'MAXLEN', size)
end
local cutoff = now - ttl
-- Usually nothing is that old: looking at the oldest entry first is the cheap check
-- (bench/experiments/publish-script.mjs: 20-35% less script time).
local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
if cutoff > 0 and oldest and parse(oldest[1]) < cutoff then
  local bound = id(cutoff, 0)
  local aged = redis.call('XREVRANGE', stream, '(' .. bound, '-', 'COUNT', 1)[1]
  if aged then
    floor = later(floor, aged[1])
    redis.call('XTRIM', stream, 'MINID', bound)
  end
end

-- 5. Refresh expiries and the meta hash; remember the idempotency key.
redis.call('PEXPIRE', stream, ttl)
redis.call('HSET', meta, 'top', seq, 'floor', floor)
redis.call('PEXPIRE', meta, meta_ttl)
if dedupe then redis.call('SET', dedupe, seq, 'PX', ARGV[7]) end

-- 6. Hand it to live subscribers: "<seq> <envelope>".
redis.call(ARGV[8], ARGV[1], seq .. ' ' .. envelope)
return {seq, 0}
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
 * ARGV: since, ttl ms
 * Returns {code} or {4, seq1, envelope1, seq2, envelope2, ...}. Read-only: entries
 * older than ttl that no publish has trimmed yet count as dropped.
 */
export const HISTORY_LUA = `${HELPERS}
local stream, meta = KEYS[1], KEYS[2]
local since, ttl = ARGV[1], tonumber(ARGV[2])

local m = redis.call('HMGET', meta, 'top', 'floor')
local top, floor = m[1], m[2]
if not top then return {0} end
if cmp(since, top) > 0 then return {1} end
if redis.call('EXISTS', stream) == 0 then
  if cmp(since, top) < 0 then return {3} end
  return {4}
end
floor = floor or top

local remaining = redis.call('XLEN', stream) > 0
local cutoff = now_ms() - ttl
if cutoff > 0 then
  local bound = id(cutoff, 0)
  local aged = redis.call('XREVRANGE', stream, '(' .. bound, '-', 'COUNT', 1)[1]
  if aged then
    floor = later(floor, aged[1])
    remaining = #redis.call('XRANGE', stream, bound, '+', 'COUNT', 1) > 0
  end
end
if cmp(since, floor) < 0 then
  if remaining then return {2} end
  return {3}
end

local entries = redis.call('XRANGE', stream, '(' .. since, '+')
local out = {4}
for i = 1, #entries do
  out[2 * i] = entries[i][1]
  out[2 * i + 1] = entries[i][2][2]
end
return out
`;
