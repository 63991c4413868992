/**
 * idle: memory per idle authenticated connection with one subscription. Each server
 * runs with a bench-only preload (lib/gc-hook.mjs) so a full GC runs before each
 * reading; RSS comes from /proc, the V8 heap from the server itself (Herald: its
 * Prometheus metrics; peers: /stats). Per connection = (loaded - baseline) / N.
 *
 * Each connection then receives one event of ~1.5 KB (above ws's and Herald's
 * compression thresholds), so that per-connection compression state, where a server
 * keeps any, is counted. Runs without and with permessage-deflate (clients offer it,
 * servers enable it; Herald: WEBSOCKET_COMPRESSION=true); `negotiated` says whether the
 * server took it. `--no-compression` style runs: `--systems` and `compression: false`.
 */
import { fileURLToPath } from 'node:url';
import { Fleet } from '../lib/fleet.mjs';
import { API_KEY, fetchJson, heraldHeap, rssBytes, sleep } from '../lib/proc.mjs';
import { startSystem } from '../lib/systems.mjs';

export const description = 'RSS and heap per idle authenticated connection with one subscription';

const GC_HOOK = fileURLToPath(new URL('../lib/gc-hook.mjs', import.meta.url));

export function defaults(quick) {
  return {
    systems: ['herald', 'raw', 'sio'],
    connections: quick ? 2000 : 10000,
    channelCount: quick ? 200 : 1000,
    compression: true,
    settleMs: quick ? 1000 : 3000,
    eventBytes: 1500,
  };
}

async function reading(sut) {
  const edge = sut.edges[0];
  process.kill(edge.pid, 'SIGUSR2');
  await sleep(700);
  const heap = sut.system === 'herald' ? await heraldHeap(edge.url) : await fetchJson(`${edge.url}/stats`);
  return { rss: rssBytes(edge.pid), heapUsed: heap.heapUsed };
}

/** One event of `bytes` of data to each channel, through the system's own publish path. */
async function publishOncePerChannel(sut, channelCount, bytes) {
  const url = sut.ingest[0].url;
  const pad = 'x'.repeat(bytes);
  const events = Array.from({ length: channelCount }, (_, c) => ({ c, data: { ch: `c${c}`, t: Date.now(), n: c, pad } }));
  // 100 events of 1.5 KB per request: under the ingest's 256 KiB body limit.
  for (let i = 0; i < events.length; i += 100) {
    const slice = events.slice(i, i + 100);
    const herald = sut.system === 'herald';
    const body = herald
      ? { events: slice.map((e) => ({ type: 'bench.tick', id: `idle-${Date.now()}-${e.c}`, data: e.data })) }
      : { events: slice.map((e) => ({ channel: `bench:c${e.c}`, type: 'bench.tick', id: `idle-${e.c}`, data: e.data })) };
    const response = await fetch(`${url}${herald ? '/v1/events:batch' : '/publish'}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify(body),
    });
    if (response.status !== 202 && response.status !== 207) throw new Error(`publish failed: ${response.status} ${await response.text()}`);
  }
}

export async function run(options, progress) {
  const rows = [];
  const variants = options.compression ? [false, true] : [false];
  for (const compression of variants) {
    for (const system of options.systems) {
      const label = `${system} ${options.connections} idle connections${compression ? ', compression offered' : ''}`;
      progress(`${label}: starting`);
      const env = compression ? (system === 'herald' ? { WEBSOCKET_COMPRESSION: 'true' } : { COMPRESSION: '1' }) : {};
      const sut = await startSystem(system, { topology: 'memory', env, nodeOptions: ['--expose-gc', '--import', GC_HOOK] });
      let fleet;
      try {
        const edge = sut.edges[0];
        // Warm the server's code paths with a few connections first, then measure from there.
        const warm = await Fleet.open({ processes: 1, total: 50, system: sut, ports: [edge.port], channelsOf: { prefix: 'bench:w', modulo: 5 }, sampleConnections: 0, concurrency: 50 });
        await warm.waitReady();
        await warm.close();
        await sleep(500);
        const before = await reading(sut);
        const processes = Math.max(1, Math.ceil(options.connections / 2500));
        fleet = await Fleet.open({
          processes,
          total: options.connections,
          system: sut,
          ports: [edge.port],
          channelsOf: { prefix: 'bench:c', modulo: options.channelCount },
          sampleConnections: 0,
          concurrency: Math.floor(400 / processes),
          headers: compression ? { 'Sec-WebSocket-Extensions': 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits' } : undefined,
        });
        const ready = await fleet.waitReady({ progress: (m) => progress(`${label}: ${m}`) });
        await sleep(options.settleMs);
        const idle = await reading(sut);
        await publishOncePerChannel(sut, options.channelCount, options.eventBytes);
        const deadline = Date.now() + 20_000;
        while (fleet.frames < ready.live && Date.now() < deadline) {
          await fleet.refresh();
          await sleep(200);
        }
        const received = fleet.frames;
        await sleep(options.settleMs);
        const after = await reading(sut);
        const negotiated = fleet.sum('extensions');
        const n = ready.live;
        const row = {
          system,
          compression,
          negotiated: compression ? negotiated === n : false,
          connections: n,
          eventsReceived: received,
          baselineRssBytes: before.rss,
          loadedRssBytes: idle.rss,
          // Idle: connected, authenticated, subscribed, nothing received yet.
          rssPerConnectionBytes: Math.round((idle.rss - before.rss) / n),
          heapPerConnectionBytes: Math.round((idle.heapUsed - before.heapUsed) / n),
          baselineHeapBytes: before.heapUsed,
          loadedHeapBytes: idle.heapUsed,
          // The same connections after each received one event of `eventBytes`.
          afterEventRssBytes: after.rss,
          rssPerConnectionAfterEventBytes: Math.round((after.rss - before.rss) / n),
          heapPerConnectionAfterEventBytes: Math.round((after.heapUsed - before.heapUsed) / n),
        };
        if (received < n) progress(`${label}: only ${received}/${n} clients received the event`);
        progress(`${label}: idle ${(row.rssPerConnectionBytes / 1024).toFixed(2)} KiB RSS and ${(row.heapPerConnectionBytes / 1024).toFixed(2)} KiB heap per connection; after one ${options.eventBytes}-byte event ${(row.rssPerConnectionAfterEventBytes / 1024).toFixed(2)} KiB RSS${compression ? `; compression negotiated on ${negotiated}/${n}` : ''}`);
        rows.push(row);
      } finally {
        await fleet?.exit();
        await sut.stop();
      }
    }
  }
  const of = (system, compression) => rows.find((r) => r.system === system && r.compression === compression);
  const ratios = variants.flatMap((compression) => {
    const herald = of('herald', compression);
    const ratio = (other, field) => (herald && other ? Math.round((herald[field] / other[field]) * 100) / 100 : null);
    return [
      { group: `idle RSS per connection${compression ? ', compression' : ''} (lower is better)`, heraldVsRaw: ratio(of('raw', compression), 'rssPerConnectionBytes'), heraldVsSocketIo: ratio(of('sio', compression), 'rssPerConnectionBytes') },
      { group: `RSS per connection after one event${compression ? ', compression' : ''} (lower is better)`, heraldVsRaw: ratio(of('raw', compression), 'rssPerConnectionAfterEventBytes'), heraldVsSocketIo: ratio(of('sio', compression), 'rssPerConnectionAfterEventBytes') },
    ];
  });
  return { rows, ratios };
}
