/**
 * Lua scripts of the Redis admission engine. Every key shares one hash tag, so the
 * scripts also run on a Redis Cluster (one slot). Layout (KeyLayout.admission of
 * @herald/redis, where every Herald key is listed), with P = `{<prefix>:admission}`:
 *   P:nodes         ZSET  node id -> lease expiry (ms)
 *   P:total         STRING connections counted cluster-wide
 *   P:users         HASH  user -> connections cluster-wide
 *   P:node:<id>     HASH  `total` and `u:<user>` -> this node's share
 * A node whose lease expired is reaped by whichever node runs a script next: its
 * share is subtracted from the totals, so a crashed node's count heals by itself.
 */

/**
 * Shared prelude: reaps expired nodes. ARGV[1] = the node's now (ms), ARGV[2] = node key
 * prefix. Leases are kept in Redis's clock (TIME), not the nodes': an edge whose clock
 * runs ahead would otherwise see every other lease as lapsed and reap live nodes' shares
 * on each script it runs (the cluster-wide count then falls below the truth). A node's
 * "lease until" (ARGV[4] where there is one) only says how long from its own now;
 * leaseUntil() restates it from Redis's now.
 */
const REAP = `
local serverTime = redis.call('TIME')
local now = tonumber(serverTime[1]) * 1000 + math.floor(tonumber(serverTime[2]) / 1000)
local function leaseUntil()
  return now + tonumber(ARGV[4]) - tonumber(ARGV[1])
end
local function subtract(nodeKey)
  local fields = redis.call('HGETALL', nodeKey)
  for i = 1, #fields, 2 do
    local field, value = fields[i], tonumber(fields[i + 1])
    if field == 'total' then
      redis.call('DECRBY', KEYS[2], value)
    else
      local user = string.sub(field, 3)
      if redis.call('HINCRBY', KEYS[3], user, -value) <= 0 then redis.call('HDEL', KEYS[3], user) end
    end
  end
  redis.call('DEL', nodeKey)
end
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, node in ipairs(dead) do
  subtract(ARGV[2] .. node)
  redis.call('ZREM', KEYS[1], node)
end
if tonumber(redis.call('GET', KEYS[2]) or '0') < 0 then redis.call('SET', KEYS[2], 0) end
`;

/**
 * Counts connections, in order, each as if it had run on its own (so the limits hold
 * exactly): one script, one round trip and one reap for every acquire an edge asks
 * within one event-loop turn. KEYS: nodes, total, users, this node's hash.
 * ARGV: now, node key prefix, node id, lease until, max total (-1 none), max per user
 * (-1 none), then one user per connection ('' has no per-user limit).
 * Returns one code per connection: 0 admitted, 1 global limit, 2 user limit; or 3 for
 * all of them (nothing counted) when the node is unknown: its lease lapsed and its share
 * was reaped (or Redis lost it), so it must resync its whole share first; counting on an
 * empty share would leave the rest uncounted for good.
 */
export const ACQUIRE = `${REAP}
local n = #ARGV - 6
local codes = {}
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  for i = 1, n do codes[i] = 3 end
  return codes
end
local maxTotal, maxUser = tonumber(ARGV[5]), tonumber(ARGV[6])
local total = tonumber(redis.call('GET', KEYS[2]) or '0')
local admitted = 0
for i = 1, n do
  local user = ARGV[6 + i]
  if maxTotal >= 0 and total >= maxTotal then
    codes[i] = 1
  elseif user ~= '' and maxUser >= 0 and tonumber(redis.call('HGET', KEYS[3], user) or '0') >= maxUser then
    codes[i] = 2
  else
    codes[i] = 0
    total = total + 1
    admitted = admitted + 1
    if user ~= '' then
      redis.call('HINCRBY', KEYS[3], user, 1)
      redis.call('HINCRBY', KEYS[4], 'u:' .. user, 1)
    end
  end
end
if admitted > 0 then
  redis.call('INCRBY', KEYS[2], admitted)
  redis.call('HINCRBY', KEYS[4], 'total', admitted)
  redis.call('ZADD', KEYS[1], leaseUntil(), ARGV[3])
end
return codes
`;

/**
 * KEYS: nodes, total, users, this node's hash. ARGV: now, node key prefix, then pairs
 * of user, count. Only what this node's hash still holds is subtracted: after the
 * node was reaped the totals no longer include it.
 */
/**
 * Every live node's share, read-only (no reap: a node whose lease ran out is left out).
 * Leases are judged by Redis's clock, like the reaping: a reader whose clock is ahead
 * must not count the others' live leases as lapsed.
 * KEYS: nodes. ARGV: now (unused), node key prefix. Returns {id1, total1, id2, total2, ...}.
 */
export const NODE_COUNTS = `
local serverTime = redis.call('TIME')
local now = tonumber(serverTime[1]) * 1000 + math.floor(tonumber(serverTime[2]) / 1000)
local out = {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')) do
  out[#out + 1] = node
  out[#out + 1] = tonumber(redis.call('HGET', ARGV[2] .. node, 'total') or '0')
end
return out
`;

export const RELEASE = `${REAP}
for i = 3, #ARGV, 2 do
  local user, count = ARGV[i], tonumber(ARGV[i + 1])
  local held = tonumber(redis.call('HGET', KEYS[4], 'total') or '0')
  local n = math.min(count, held)
  if n > 0 then
    redis.call('DECRBY', KEYS[2], n)
    if redis.call('HINCRBY', KEYS[4], 'total', -n) <= 0 then redis.call('HDEL', KEYS[4], 'total') end
    if user ~= '' then
      local heldUser = tonumber(redis.call('HGET', KEYS[4], 'u:' .. user) or '0')
      local m = math.min(n, heldUser)
      if m > 0 then
        if redis.call('HINCRBY', KEYS[4], 'u:' .. user, -m) <= 0 then redis.call('HDEL', KEYS[4], 'u:' .. user) end
        if redis.call('HINCRBY', KEYS[3], user, -m) <= 0 then redis.call('HDEL', KEYS[3], user) end
      end
    end
  end
end
return 0
`;

/**
 * Renews the lease. KEYS: nodes, total, users. ARGV: now, node key prefix, node id,
 * lease until. Returns 1 when the node had been reaped: it stays unknown (acquires
 * answer 3) until its resync puts the whole share back.
 */
export const RENEW = `${REAP}
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) then return 1 end
redis.call('ZADD', KEYS[1], leaseUntil(), ARGV[3])
return 0
`;

/**
 * Replaces this node's share with the exact local counts. KEYS: nodes, total, users,
 * this node's hash. ARGV: now, node key prefix, node id, lease until, total, then
 * pairs of user, count.
 */
export const RESYNC = `${REAP}
subtract(KEYS[4])
local total = tonumber(ARGV[5])
if total > 0 then
  redis.call('INCRBY', KEYS[2], total)
  redis.call('HSET', KEYS[4], 'total', total)
end
for i = 6, #ARGV, 2 do
  local user, count = ARGV[i], tonumber(ARGV[i + 1])
  redis.call('HINCRBY', KEYS[3], user, count)
  redis.call('HSET', KEYS[4], 'u:' .. user, count)
end
redis.call('ZADD', KEYS[1], leaseUntil(), ARGV[3])
return 0
`;

/** Removes this node and its share. KEYS: nodes, total, users, this node's hash. ARGV: now, prefix, node id. */
export const LEAVE = `${REAP}
subtract(KEYS[4])
redis.call('ZREM', KEYS[1], ARGV[3])
return 0
`;
