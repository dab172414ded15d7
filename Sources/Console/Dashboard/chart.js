// The usage chart: a bar chart drawn as inline SVG from /api/usage rows.
// No library: the page draws it, so the CSP stays `default-src 'self'` and
// nothing is fetched from elsewhere. Colours come from app.css classes.

import { s, fmtInt } from './ui.js';

const WIDTH = 720;
const HEIGHT = 240;
const MARGIN = { top: 14, right: 12, bottom: 34, left: 64 };
const MAX_X_LABELS = 8;

/** The last `count` UTC days ending today, as YYYY-MM-DD. */
export function lastDays(count, now = new Date()) {
  const days = [];
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  for (let i = count - 1; i >= 0; i -= 1) {
    days.push(new Date(end - i * 86400000).toISOString().slice(0, 10));
  }
  return days;
}

/** A round axis maximum at or above `value` (1, 2, 2.5, 5 × 10^n). */
export function niceMax(value) {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= value) return step * magnitude;
  }
  return 10 * magnitude;
}

function shortDay(day) {
  const d = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return day;
  return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

/**
 * @param {{day:string, value:number}[]} points one per day, oldest first
 * @param {string} unit e.g. "credits"
 * @param {string} id  the svg element id
 */
export function barChart(points, unit, id) {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const max = niceMax(Math.max(0, ...points.map((p) => p.value)));
  const total = points.reduce((sum, p) => sum + p.value, 0);
  const slot = plotW / Math.max(points.length, 1);
  const barW = Math.max(1, slot * 0.72);
  const y = (v) => MARGIN.top + plotH - (v / max) * plotH;

  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  const svg = s('svg', {
    id, class: 'chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img',
    'aria-labelledby': `${titleId} ${descId}`, preserveAspectRatio: 'xMidYMid meet',
  },
  s('title', { id: titleId }, `Usage per day in ${unit}`),
  s('desc', { id: descId }, `${points.length} days, ${fmtInt(total)} ${unit} in total, highest day ${fmtInt(Math.max(0, ...points.map((p) => p.value)))}.`));

  const grid = s('g', { class: 'chart-grid' });
  for (let i = 0; i <= 4; i += 1) {
    const v = (max / 4) * i;
    const gy = y(v);
    grid.append(
      s('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: gy, y2: gy, class: i === 0 ? 'chart-axis' : 'chart-gridline' }),
      s('text', { x: MARGIN.left - 8, y: gy + 4, 'text-anchor': 'end', class: 'chart-label' }, fmtInt(v)),
    );
  }
  svg.append(grid);

  const bars = s('g', { class: 'chart-bars' });
  const every = Math.max(1, Math.ceil(points.length / MAX_X_LABELS));
  points.forEach((p, i) => {
    const x = MARGIN.left + i * slot + (slot - barW) / 2;
    const top = y(p.value);
    const height = Math.max(0, MARGIN.top + plotH - top);
    bars.append(s('rect', {
      x: x.toFixed(2), y: top.toFixed(2), width: barW.toFixed(2), height: (p.value > 0 ? Math.max(height, 1) : 0).toFixed(2),
      class: 'chart-bar', 'data-day': p.day, 'data-value': p.value,
    }, s('title', null, `${p.day}: ${fmtInt(p.value)} ${unit}`)));
    if (i % every === 0) {
      bars.append(s('text', { x: (MARGIN.left + i * slot + slot / 2).toFixed(2), y: HEIGHT - 12, 'text-anchor': 'middle', class: 'chart-label' }, shortDay(p.day)));
    }
  });
  svg.append(bars);
  return svg;
}
