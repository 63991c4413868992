#!/usr/bin/env node
/**
 * Experiment (not a scenario): Redis CPU per publish of the broker's Lua publish script
 * (packages/broker/dist/redis/lua.js, as built) against a variant that checks the
 * stream's oldest entry before looking for entries older than HISTORY_TTL. The
 * product's script is read, never changed; the variant is built here in memory.
 *
 *   node bench/experiments/publish-script.mjs [--events 60000] [--channels 1000]
 *
 * Prints usec_per_call of EVALSHA (Redis INFO commandstats) for both, on a private
 * redis-server, with pipelines of 100 publishes like the ingest's batches.
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { PUBLISH_LUA } from '../../packages/broker/dist/redis/lua.js';
import { startRedis } from '../lib/proc.mjs';

const { values } = parseArgs({ options: { events: { type: 'string', default: '60000' }, channels: { type: 'string', default: '1000' } } });
const EVENTS = Number(values.events);
const CHANNELS = Number(values.channels);

const ORIGINAL_TRIM = `  local aged = redis.call('XREVRANGE', stream, '(' .. bound, '-', 'COUNT', 1)[1]`;
const VARIANT_TRIM = `  -- The oldest entry first: only when it is older than the cutoff is there an entry to
  -- find from the end (a reverse seek scans the last listpack node when there is none).
  local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
  local aged = nil
  if oldest and cmp(oldest[1], bound) < 0 then
    aged = redis.call('XREVRANGE', stream, '(' .. bound, '-', 'COUNT', 1)[1]
  end`;
if (!PUBLISH_LUA.includes(ORIGINAL_TRIM)) throw new Error('the publish script changed; update the experiment');
const VARIANT = PUBLISH_LUA.replace(ORIGINAL_TRIM, VARIANT_TRIM);

async function measure(label, source) {
  const redis = await startRedis();
  const client = new Redis(redis.url);
  try {
    const sha = await client.script('LOAD', source);
    const envelopeTail = `","data":{"ch":"c1","t":1763719200123.456,"n":1,"pad":"${'x'.repeat(40)}"}}`;
    const run = async (from, to) => {
      for (let i = from; i < to; i += 100) {
        const pipeline = client.pipeline();
        for (let k = i; k < Math.min(to, i + 100); k++) {
          const ch = `bench:c${k % CHANNELS}`;
          pipeline.evalsha(sha, 3, `herald:{${ch}}:s`, `herald:{${ch}}:m`, `herald:{${ch}}:d:e${k}`, `herald:{${ch}}`, `{"type":"bench.tick","id":"e${k}","timestamp":"2026-11-22T00:00:00.000Z","channel":"${ch}","seq":"`, envelopeTail, 1000, 600000, 2592000000, 600000, 'publish');
        }
        await pipeline.exec();
      }
    };
    await run(0, EVENTS / 2); // fill the streams half-way, then measure the second half
    await client.config('RESETSTAT');
    await run(EVENTS / 2, EVENTS);
    const stats = await client.info('commandstats');
    const line = stats.split('\n').find((l) => l.startsWith('cmdstat_evalsha:'));
    const perCall = Number(/usec_per_call=([0-9.]+)/.exec(line)[1]);
    const calls = stats.split('\n').filter((l) => l.startsWith('cmdstat_x')).map((l) => l.replace(/,rejected_calls.*/, '').trim());
    process.stdout.write(`${label}: EVALSHA ${perCall} us per publish (Redis CPU) over ${EVENTS / 2} publishes on ${CHANNELS} channels\n    ${calls.join('\n    ')}\n`);
    return perCall;
  } finally {
    client.disconnect();
    await redis.stop();
  }
}

const before = await measure('product script', PUBLISH_LUA);
const after = await measure('oldest-entry check', VARIANT);
process.stdout.write(`saving: ${(before - after).toFixed(1)} us per publish (${Math.round((1 - after / before) * 100)}%)\n`);
process.exit(0);
