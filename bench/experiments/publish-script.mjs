#!/usr/bin/env node
/**
 * Experiment (not a scenario): Redis CPU per publication of the broker's Lua publish
 * script (packages/broker/dist/redis/lua.js, as built), in calls of 100 publications
 * like the ingest's batches, on a private redis-server. Variants built here in memory
 * (the product's script is read, never changed) show what each step costs:
 *
 *   node bench/experiments/publish-script.mjs [--events 100000] [--channels 1000] [--prefill 0] [--size 1000] [--only 'as built'] [--commands]
 *
 * Prints Redis CPU (INFO cpu, user + sys: parsing, the script and its commands,
 * replies) per publication, and EVALSHA's own usec_per_call / publications per call.
 * `--prefill 1000` with `--size 1000` measures full streams (the trimming path);
 * `--commands` adds INFO commandstats per publication (calls and usec of each command
 * the script ran), to see which commands a change removed.
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { PUBLISH_LUA } from '../../packages/broker/dist/redis/lua.js';
import { startRedis } from '../lib/proc.mjs';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    channels: { type: 'string', default: '1000' },
    prefill: { type: 'string', default: '0' },
    per: { type: 'string', default: '100' },
    size: { type: 'string', default: '1000' },
    only: { type: 'string' },
    commands: { type: 'boolean', default: false },
  },
});
const EVENTS = Number(values.events);
const CHANNELS = Number(values.channels);
const PREFILL = Number(values.prefill);
const PER_CALL = Number(values.per);
const SIZE = Number(values.size);

function variant(replacements) {
  let source = PUBLISH_LUA;
  for (const [from, to] of replacements) {
    if (!source.includes(from)) throw new Error(`the publish script changed; update the experiment (${from})`);
    source = source.replace(from, to);
  }
  return source;
}

const VARIANTS = {
  'as built': PUBLISH_LUA,
  'without PUBLISH': variant([["redis.call(publish, channel, seq .. ' ' .. envelope)", '']]),
  'without the dedupe key': variant([
    ["local first = redis.call('GET', dedupe)", 'local first = false'],
    ["if dedupe then redis.call('SET', dedupe, seq, 'PX', dedupe_ttl) end", ''],
  ]),
  'age check every publish': variant([['(age_at == nil or now > age_at)', 'true']]),
  'expiries every publish': variant([['if fresh_until == nil or now > fresh_until then', 'if true then']]),
};

async function cpuSeconds(client) {
  const info = await client.info('cpu');
  const user = Number(/used_cpu_user:([0-9.]+)/.exec(info)[1]);
  const sys = Number(/used_cpu_sys:([0-9.]+)/.exec(info)[1]);
  return user + sys;
}

async function measure(label, source) {
  const redis = await startRedis();
  const client = new Redis(redis.url);
  try {
    const sha = await client.script('LOAD', source);
    const envelopeTail = `","data":{"ch":"c1","t":1763719200123.456,"n":1,"pad":"${'x'.repeat(40)}"}}`;
    const run = async (from, to) => {
      for (let i = from; i < to; i += PER_CALL * 10) {
        const pipeline = client.pipeline();
        for (let c = i; c < Math.min(to, i + PER_CALL * 10); c += PER_CALL) {
          const keys = [];
          const args = [SIZE, 600000, 2592000000, 600000, 'publish'];
          for (let k = c; k < Math.min(to, c + PER_CALL); k++) {
            const ch = `bench:c${k % CHANNELS}`;
            keys.push(`herald:{${ch}}:s`, `herald:{${ch}}:m`, `herald:{${ch}}:d:e${k}`);
            args.push(`herald:{${ch}}`, `{"type":"bench.tick","id":"e${k}","timestamp":"2026-11-22T00:00:00.000Z","channel":"${ch}","seq":"`, envelopeTail, '1');
          }
          pipeline.evalsha(sha, keys.length, ...keys, ...args);
        }
        const replies = await pipeline.exec();
        const failed = replies.find(([error]) => error);
        if (failed) throw failed[0];
      }
    };
    if (PREFILL > 0) await run(0, PREFILL * CHANNELS);
    await client.config('RESETSTAT');
    const cpu0 = await cpuSeconds(client);
    await run(PREFILL * CHANNELS, PREFILL * CHANNELS + EVENTS);
    const cpu = (await cpuSeconds(client)) - cpu0;
    const stats = await client.info('commandstats');
    const line = stats.split('\n').find((l) => l.startsWith('cmdstat_evalsha:'));
    const perCall = Number(/usec_per_call=([0-9.]+)/.exec(line)[1]);
    process.stdout.write(`${label.padEnd(24)} ${((cpu * 1e6) / EVENTS).toFixed(1).padStart(6)} us Redis CPU per publication, EVALSHA ${(perCall / PER_CALL).toFixed(1)} us per publication\n`);
    if (values.commands) {
      for (const row of stats.split('\n')) {
        const match = /^cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)/.exec(row.trim());
        if (!match || match[1].includes('|') || ['evalsha', 'info'].includes(match[1])) continue;
        const [, command, calls, usec] = match;
        process.stdout.write(`    ${command.padEnd(10)} ${(Number(calls) / EVENTS).toFixed(3).padStart(7)} calls, ${(Number(usec) / EVENTS).toFixed(2).padStart(6)} us per publication\n`);
      }
    }
  } finally {
    client.disconnect();
    await redis.stop();
  }
}

process.stdout.write(`${EVENTS} publications on ${CHANNELS} channels, ${PER_CALL} per call, history size ${SIZE}, streams prefilled with ${PREFILL} entries each\n`);
for (const [label, source] of Object.entries(VARIANTS)) if (values.only === undefined || values.only === label) await measure(label, source);
process.exit(0);
