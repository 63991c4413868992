/**
 * Line charts as inline SVG: a few polylines over a fixed viewBox that scales with the
 * card, so the same drawing fits a phone and a desktop. Only numbers and the constant
 * names given here go into the markup.
 */

export interface Series {
  readonly name: string;
  readonly color: string;
  /** One value per point, oldest first; undefined leaves a gap. */
  readonly values: ReadonlyArray<number | undefined>;
}

const HEIGHT = 170;
const LEFT = 46;
const RIGHT = 8;
const TOP = 10;
const BOTTOM = 20;

export function lineChart(container: HTMLElement, series: readonly Series[], points: number, unit: string): void {
  // One unit of the drawing per CSS pixel of the card: labels keep their size on a phone.
  const WIDTH = Math.max(240, Math.round(container.clientWidth) || 600);
  let max = 0;
  for (const line of series) for (const value of line.values) if (value !== undefined && value > max) max = value;
  const top = niceCeiling(max);
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const x = (index: number): number => LEFT + (points <= 1 ? 0 : (index * plotWidth) / (points - 1));
  const y = (value: number): number => TOP + plotHeight - (value / top) * plotHeight;
  const parts: string[] = [];
  for (const fraction of [0, 0.5, 1]) {
    const value = top * fraction;
    parts.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y(value)}" y2="${y(value)}" stroke="#d5dbe1" stroke-width="1"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${y(value) + 4}" text-anchor="end">${formatNumber(value)}</text>`);
  }
  parts.push(`<text x="${LEFT}" y="${HEIGHT - 4}">-${points}s</text><text x="${WIDTH - RIGHT}" y="${HEIGHT - 4}" text-anchor="end">now</text>`);
  for (const line of series) {
    // Right-aligned: the newest value is always at "now".
    const offset = points - line.values.length;
    let path = '';
    line.values.forEach((value, index) => {
      if (value === undefined) {
        path += ' ';
        return;
      }
      path += `${path === '' || path.endsWith(' ') ? 'M' : 'L'}${x(offset + index).toFixed(1)},${y(value).toFixed(1)}`;
    });
    const d = path.trim().replace(/ +/g, ' ');
    if (d !== '') parts.push(`<path d="${d}" fill="none" stroke="${line.color}" stroke-width="2" stroke-linejoin="round"/>`);
  }
  const legend = series
    .map((line) => {
      const last = [...line.values].reverse().find((value) => value !== undefined);
      // A swatch in SVG: the page's policy allows no inline style attribute.
      return `<span><svg class="swatch" viewBox="0 0 12 4"><rect width="12" height="4" fill="${line.color}"/></svg>${line.name} ${last === undefined ? '–' : formatNumber(last)}${unit}</span>`;
    })
    .join('');
  container.innerHTML = `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${series.map((line) => line.name).join(', ')}">${parts.join('')}</svg><div class="legend">${legend}</div>`;
}

/** 1, 2 or 5 times a power of ten, at least `value` (and at least 1). */
function niceCeiling(value: number): number {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

export function formatNumber(value: number): string {
  if (value === 0) return '0';
  if (value < 1) return value.toFixed(2);
  if (value < 10) return value.toFixed(1);
  if (value < 10_000) return String(Math.round(value));
  if (value < 1_000_000) return `${(value / 1000).toFixed(value < 100_000 ? 1 : 0)}k`;
  return `${(value / 1_000_000).toFixed(1)}M`;
}
