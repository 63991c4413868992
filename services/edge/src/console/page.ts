/**
 * The console's page and style sheet. Small enough to live here as text rather than as
 * files to copy at build time; the script is the compiled console-app (console-routes.ts
 * serves it). Nothing comes from another origin: no CDN, no web font, no inline script
 * (the Content-Security-Policy forbids them).
 */

/** `ingestUrl`: where the publish form posts ('' = this origin). */
export function consolePage(ingestUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="herald-ingest-url" content="${escapeAttribute(ingestUrl)}">
<title>Herald console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/console.css">
<script type="module" src="/console/app/console-app/main.js"></script>
</head>
<body>
<header><h1>Herald console</h1><span id="status" class="status">signed out</span><button id="signout" type="button" hidden>Sign out</button></header>
<main>
<section id="signin" class="card">
  <h2>Sign in</h2>
  <p>Paste a token with the scope <code>admin</code>. It stays in this tab (session storage) and goes only to this server.</p>
  <form id="signin-form">
    <label for="token">Token</label>
    <textarea id="token" rows="3" autocomplete="off" spellcheck="false" required></textarea>
    <button type="submit">Sign in</button>
  </form>
  <p id="signin-error" class="error" role="alert"></p>
</section>
<div id="dashboard" hidden>
  <section class="tiles" aria-label="Cluster totals">
    <div class="tile"><span class="label">Nodes</span><span class="value" id="t-nodes">0</span></div>
    <div class="tile"><span class="label">Connections</span><span class="value" id="t-connections">0</span></div>
    <div class="tile"><span class="label">Subscriptions</span><span class="value" id="t-subscriptions">0</span></div>
    <div class="tile"><span class="label">Events in /s</span><span class="value" id="t-in">0</span></div>
    <div class="tile"><span class="label">Deliveries /s</span><span class="value" id="t-out">0</span></div>
    <div class="tile"><span class="label">Lag p50</span><span class="value" id="t-p50">–</span></div>
    <div class="tile"><span class="label">Lag p99</span><span class="value" id="t-p99">–</span></div>
    <div class="tile"><span class="label">Slow closes</span><span class="value" id="t-slow">0</span></div>
  </section>
  <section class="charts">
    <figure class="card"><figcaption>Events in and deliveries per second, last 60 s</figcaption><div id="chart-rates"></div></figure>
    <figure class="card"><figcaption>Publish-to-deliver lag p50 and p99 (ms), last 60 s</figcaption><div id="chart-lag"></div></figure>
  </section>
  <section class="card">
    <h2>Nodes</h2>
    <div class="scroll"><table id="nodes">
      <thead><tr><th>Node</th><th>Connections</th><th>Subscriptions</th><th>Channels</th><th>In /s</th><th>Out /s</th><th>p50 ms</th><th>p99 ms</th><th>Slow closes</th><th>State</th></tr></thead>
      <tbody></tbody>
    </table></div>
  </section>
  <div class="columns">
    <section class="card">
      <h2>Channel tail</h2>
      <form id="tail-form" class="row">
        <input id="tail-channel" placeholder="merchant:m_42" autocomplete="off" spellcheck="false" required>
        <button type="submit">Tail</button>
      </form>
      <p id="tail-status" class="muted"></p>
      <ol id="tail" class="tail"></ol>
    </section>
    <section class="card">
      <h2>Publish a test event</h2>
      <form id="publish-form">
        <label for="publish-body">Event (POST /v1/events)</label>
        <textarea id="publish-body" rows="8" spellcheck="false"></textarea>
        <label for="publish-key">Ingest credential (empty: the sign-in token, which then needs the scope <code>events:publish</code>)</label>
        <input id="publish-key" type="password" autocomplete="off">
        <button type="submit">Publish</button>
      </form>
      <pre id="publish-result" class="result"></pre>
    </section>
  </div>
</div>
</main>
</body>
</html>
`;
}

export const CONSOLE_CSS = `
:root { color-scheme: light; --fg: #17202a; --muted: #5d6d7e; --line: #d5dbe1; --bg: #f4f6f8; --card: #fff; --accent: #1f6feb; --accent2: #d9480f; --bad: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; padding: 10px 16px; background: #17202a; color: #fff; }
header h1 { font-size: 18px; margin: 0; flex: 1; }
.status { font-size: 13px; padding: 2px 8px; border-radius: 10px; background: #34495e; }
.status.live { background: #1a7f37; }
.status.down { background: var(--bad); }
main { padding: 12px; max-width: 1280px; margin: 0 auto; }
h2 { font-size: 16px; margin: 0 0 8px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; margin: 0 0 12px; min-width: 0; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 8px; margin-bottom: 12px; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; display: flex; flex-direction: column; min-width: 0; }
.tile .label { font-size: 12px; color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tile .value { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
.charts, .columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 12px; }
figure { margin: 0 0 12px; }
figcaption { font-size: 13px; color: var(--muted); margin-bottom: 6px; }
svg { width: 100%; height: auto; display: block; }
svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
.legend { display: flex; gap: 14px; font-size: 12px; color: var(--muted); margin-top: 4px; }
.legend svg.swatch { display: inline-block; width: 12px; height: 4px; margin-right: 4px; vertical-align: middle; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: right; padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
label { display: block; font-size: 13px; color: var(--muted); margin: 8px 0 4px; }
textarea, input { width: 100%; font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; }
button { font: inherit; padding: 6px 14px; margin-top: 8px; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
header button { margin: 0; background: #34495e; }
.row { display: flex; gap: 8px; align-items: center; }
.row button { margin: 0; }
.error { color: var(--bad); min-height: 1.4em; }
.muted { color: var(--muted); font-size: 13px; min-height: 1.2em; margin: 6px 0; }
.tail { list-style: none; padding: 0; margin: 0; max-height: 340px; overflow-y: auto; }
.tail li { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; padding: 6px; border-bottom: 1px solid var(--line); word-break: break-all; }
.result { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap; word-break: break-all; margin: 8px 0 0; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; }
@media (max-width: 600px) {
  main { padding: 8px; }
  .tile .value { font-size: 20px; }
  .charts, .columns { grid-template-columns: 1fr; }
  /* Channels, p50 and slow closes: in the tiles for the cluster; the rest fits a phone. */
  #nodes th:nth-child(4), #nodes td:nth-child(4), #nodes th:nth-child(7), #nodes td:nth-child(7), #nodes th:nth-child(9), #nodes td:nth-child(9) { display: none; }
  th, td { padding: 5px 4px; }
}
`;

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
