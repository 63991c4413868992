/**
 * Hand-written SVG charts: grouped bars and lines, no library. Text is escaped; sizes
 * are fixed so the files diff cleanly between runs.
 */
export const COLORS = { herald: '#2563eb', 'herald-pb': '#7c3aed', 'herald-2w': '#0891b2', 'herald-cluster': '#059669', raw: '#6b7280', sio: '#dc2626' };
const PALETTE = ['#2563eb', '#6b7280', '#dc2626', '#059669', '#d97706', '#7c3aed'];

function esc(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function short(n) {
  if (!Number.isFinite(n)) return '';
  const a = Math.abs(n);
  if (a >= 1e6) return `${+(n / 1e6).toFixed(2)}M`;
  if (a >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  if (a >= 10) return `${Math.round(n)}`;
  return `${+n.toFixed(2)}`;
}

function niceMax(max) {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

function frame(width, height, title, subtitle, body) {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${esc(title)}</text>
${subtitle ? `<text x="${width / 2}" y="40" text-anchor="middle" fill="#555">${esc(subtitle)}</text>` : ''}
${body}
</svg>
`;
}

function legend(x, y, series) {
  return series
    .map((s, i) => `<rect x="${x + i * 150}" y="${y - 10}" width="12" height="12" fill="${s.color}"/><text x="${x + i * 150 + 17}" y="${y}">${esc(s.name)}</text>`)
    .join('\n');
}

/**
 * groups: [{label, values: [number|null per series]}], series: [{name, color}].
 * Linear y axis from 0; each bar labelled with its value.
 */
export function groupedBars({ title, subtitle, yLabel, groups, series, width = 760, height = 400, format = short }) {
  const left = 70;
  const right = 20;
  const top = 60;
  const bottom = 70;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const max = niceMax(Math.max(0, ...groups.flatMap((g) => g.values.filter((v) => Number.isFinite(v)))));
  const y = (v) => top + plotH - (v / max) * plotH;
  const parts = [];
  for (let i = 0; i <= 5; i++) {
    const v = (max * i) / 5;
    parts.push(`<line x1="${left}" y1="${y(v)}" x2="${width - right}" y2="${y(v)}" stroke="#e5e7eb"/><text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${esc(format(v))}</text>`);
  }
  const groupW = plotW / Math.max(1, groups.length);
  const barW = Math.min(60, (groupW * 0.8) / Math.max(1, series.length));
  groups.forEach((g, gi) => {
    const x0 = left + gi * groupW + (groupW - barW * series.length) / 2;
    g.values.forEach((v, si) => {
      if (!Number.isFinite(v)) return;
      const x = x0 + si * barW;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 4).toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${series[si].color}"/>`);
      parts.push(`<text x="${(x + (barW - 4) / 2).toFixed(1)}" y="${(y(v) - 4).toFixed(1)}" text-anchor="middle" font-size="11">${esc(format(v))}</text>`);
    });
    parts.push(`<text x="${(left + gi * groupW + groupW / 2).toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle">${esc(g.label)}</text>`);
  });
  parts.push(`<line x1="${left}" y1="${top + plotH}" x2="${width - right}" y2="${top + plotH}" stroke="#111"/>`);
  parts.push(`<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(yLabel)}</text>`);
  parts.push(legend(left, height - 18, series));
  return frame(width, height, title, subtitle, parts.join('\n'));
}

/**
 * series: [{name, color, points: [[x, y]]}]; x positions are categorical (xTicks), so
 * 1k and 10k connections sit apart evenly; `logY` for latency percentiles.
 */
export function lines({ title, subtitle, xLabel, yLabel, xTicks, series, logY = false, width = 760, height = 400, format = short }) {
  const left = 70;
  const right = 30;
  const top = 60;
  const bottom = 80;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const values = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => Number.isFinite(v) && v > 0);
  let y;
  const parts = [];
  if (logY) {
    const lo = 10 ** Math.floor(Math.log10(Math.min(...values, 1)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...values, 1)));
    y = (v) => top + plotH - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotH;
    for (let d = lo; d <= hi; d *= 10) parts.push(`<line x1="${left}" y1="${y(d)}" x2="${width - right}" y2="${y(d)}" stroke="#e5e7eb"/><text x="${left - 6}" y="${y(d) + 4}" text-anchor="end" fill="#555">${esc(format(d))}</text>`);
  } else {
    const max = niceMax(Math.max(0, ...values));
    y = (v) => top + plotH - (v / max) * plotH;
    for (let i = 0; i <= 5; i++) {
      const v = (max * i) / 5;
      parts.push(`<line x1="${left}" y1="${y(v)}" x2="${width - right}" y2="${y(v)}" stroke="#e5e7eb"/><text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${esc(format(v))}</text>`);
    }
  }
  const x = (i) => left + (xTicks.length === 1 ? plotW / 2 : (i / (xTicks.length - 1)) * plotW * 0.9 + plotW * 0.05);
  xTicks.forEach((tick, i) => parts.push(`<text x="${x(i)}" y="${top + plotH + 18}" text-anchor="middle">${esc(tick)}</text>`));
  series.forEach((s, si) => {
    const pts = s.points.map(([xi, v]) => [x(xTicks.indexOf(xi)), v]).filter(([, v]) => Number.isFinite(v));
    if (pts.length > 1) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2.5" points="${pts.map(([px, v]) => `${px.toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`);
    // Labels of close points would overlap: each series writes its values on its own line.
    for (const [px, v] of pts) parts.push(`<circle cx="${px.toFixed(1)}" cy="${y(v).toFixed(1)}" r="4" fill="${s.color}"/><text x="${(px + 6).toFixed(1)}" y="${(y(v) - 6 - si * 12).toFixed(1)}" font-size="11" fill="${s.color}">${esc(format(v))}</text>`);
  });
  parts.push(`<line x1="${left}" y1="${top + plotH}" x2="${width - right}" y2="${top + plotH}" stroke="#111"/>`);
  parts.push(`<text x="${left + plotW / 2}" y="${top + plotH + 40}" text-anchor="middle" fill="#333">${esc(xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(yLabel)}</text>`);
  parts.push(legend(left, height - 12, series));
  return frame(width, height, title, subtitle, parts.join('\n'));
}

export function seriesFor(systems, labels) {
  return systems.map((system, i) => ({ name: labels[system] ?? system, color: COLORS[system] ?? PALETTE[i % PALETTE.length], system }));
}

/**
 * Time series: series [{name, color, points: [[x seconds, value]]}] on a numeric x axis
 * (minutes), no per-point labels (a soak has hundreds of points).
 */
export function timeLines({ title, subtitle, yLabel, series, zero = true, width = 760, height = 400, format = short }) {
  const left = 70;
  const right = 30;
  const top = 60;
  const bottom = 80;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const all = series.flatMap((s) => s.points).filter(([, v]) => Number.isFinite(v));
  const maxX = Math.max(60, ...all.map(([t]) => t));
  const hiV = Math.max(0, ...all.map(([, v]) => v));
  const loV = Math.min(hiV, ...all.map(([, v]) => v));
  // From zero, or (zero: false) around the data, so that a drift of a few MiB shows.
  let minY = 0;
  let stepY = niceMax(hiV) / 5;
  if (!zero) {
    stepY = niceMax(Math.max(hiV - loV, hiV * 0.05)) / 5;
    minY = Math.max(0, Math.floor(loV / stepY) * stepY);
  }
  const steps = Math.max(1, Math.ceil((hiV - minY) / stepY));
  const maxY = minY + steps * stepY;
  const x = (t) => left + (t / maxX) * plotW;
  const y = (v) => top + plotH - ((v - minY) / (maxY - minY)) * plotH;
  const parts = [];
  for (let i = 0; i <= steps; i++) {
    const v = minY + stepY * i;
    parts.push(`<line x1="${left}" y1="${y(v)}" x2="${width - right}" y2="${y(v)}" stroke="#e5e7eb"/><text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${esc(format(v))}</text>`);
  }
  const minutes = maxX / 60;
  const step = minutes <= 10 ? 1 : minutes <= 30 ? 5 : 10;
  for (let m = 0; m <= minutes; m += step) parts.push(`<text x="${x(m * 60).toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle">${m}</text>`);
  for (const s of series) {
    const pts = s.points.filter(([, v]) => Number.isFinite(v));
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    if (pts.length > 1) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${pts.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`);
  }
  parts.push(`<line x1="${left}" y1="${top + plotH}" x2="${width - right}" y2="${top + plotH}" stroke="#111"/>`);
  parts.push(`<text x="${left + plotW / 2}" y="${top + plotH + 40}" text-anchor="middle" fill="#333">minutes since the start of the soak</text>`);
  parts.push(`<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(yLabel)}</text>`);
  parts.push(legend(left, height - 12, series));
  return frame(width, height, title, subtitle, parts.join('\n'));
}

export { PALETTE };
