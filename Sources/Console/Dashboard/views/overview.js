// Overview (#/overview?period=24h|7d|30d&split=model|channel|user|token): the
// landing page. Spend and requests per hour or day split by one dimension,
// errors and refusals by reason, p50/p99 duration, top tokens (and users, for
// admins). Each panel is one API route reading the server's per-hour rollup;
// splits and rankings name the top keys by credits and sum the rest as "other".

import { api } from '../api.js';
import { h, dataTable, fmtInt, loadingState, errorState, emptyState, field, pageHeader } from '../ui.js';
import { barChart } from '../chart.js';

const PERIODS = { '24h': 24, '7d': 24 * 7, '30d': 24 * 30 };
const HOUR_MS = 3600000;

function panel(title, id, body) {
  return h('section', { class: 'card', id, 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), body);
}

/** Every bucket of the period, oldest first, so quiet hours show as empty bars. */
function bucketStarts(fromIso, toIso, bucket) {
  const step = bucket === 'hour' ? HOUR_MS : 24 * HOUR_MS;
  const starts = [];
  const from = Date.parse(fromIso);
  for (let t = from - (from % step); t < Date.parse(toIso); t += step) starts.push(new Date(t).toISOString());
  return starts;
}

function label(iso, bucket) {
  return bucket === 'hour' ? iso.slice(0, 13).replace('T', ' ') : iso.slice(0, 10);
}

/** Ranked keys and their totals over the period; the API's "other" row (a null id) sums the keys past the limit. */
function totalsTable(id, rows, keyLabel, otherKeys) {
  const idOf = (r) => (r.key !== undefined ? r.key : r.id);
  return dataTable({
    id, caption: keyLabel, rows, stack: false,
    rowProps: (r) => (idOf(r) === null ? { 'data-other': String(otherKeys) } : { 'data-key': idOf(r) }),
    columns: [
      { label: keyLabel, test: 'overview-name', render: (r) => (idOf(r) === null ? `Other (${fmtInt(otherKeys)} more)` : r.name) },
      { label: 'Requests', test: 'overview-requests', num: true, key: 'requests' },
      { label: 'Errors', test: 'overview-errors', num: true, key: 'errors' },
      { label: 'Credits', test: 'overview-credits', num: true, key: 'credits' },
    ],
  });
}

export function overviewView(root, ctx) {
  const period = PERIODS[ctx.query.get('period')] ? ctx.query.get('period') : '24h';
  const splits = ctx.isAdmin ? ['model', 'channel', 'user', 'token'] : ['model', 'channel', 'token'];
  const split = splits.includes(ctx.query.get('split')) ? ctx.query.get('split') : 'model';
  const periodSelect = h('select', { id: 'overview-period', value: period },
    Object.keys(PERIODS).map((p) => h('option', { value: p }, `Last ${p}`)));
  const splitSelect = h('select', { id: 'overview-split', value: split }, splits.map((s) => h('option', { value: s }, `By ${s}`)));
  for (const select of [periodSelect, splitSelect]) {
    select.addEventListener('change', () => ctx.navigate(`#/overview?period=${periodSelect.value}&split=${splitSelect.value}`));
  }
  const to = new Date();
  const from = new Date(to.getTime() - PERIODS[period] * HOUR_MS);
  const range = { from: from.toISOString(), to: to.toISOString() };

  const spend = h('div', { id: 'overview-spend' }, loadingState('Loading spend…'));
  const outcomes = h('div', { id: 'overview-outcomes' }, loadingState());
  const latency = h('div', { id: 'overview-latency' }, loadingState());
  const topTokens = h('div', { id: 'overview-top-tokens' }, loadingState());
  const topUsers = ctx.isAdmin ? h('div', { id: 'overview-top-users' }, loadingState()) : null;

  root.replaceChildren(
    pageHeader('Overview'),
    h('form', { class: 'filters', id: 'overview-filters', role: 'search', 'aria-label': 'Period and split' },
      field('Period', periodSelect), field('Split', splitSelect)),
    panel('Spend and requests', 'overview-spend-panel', spend),
    panel('Errors and refusals', 'overview-outcomes-panel', outcomes),
    panel('Duration', 'overview-latency-panel', latency),
    panel('Top tokens', 'overview-top-tokens-panel', topTokens),
    topUsers ? panel('Top users', 'overview-top-users-panel', topUsers) : null);

  const load = async (target, path, query, render) => {
    try {
      const result = await api('GET', path, { query: { ...range, ...query } });
      if (root.isConnected) target.replaceChildren(render(result));
    } catch (error) {
      if (root.isConnected) target.replaceChildren(errorState(error, () => load(target, path, query, render)));
    }
  };

  load(spend, '/api/overview/series', { split }, (series) => {
    if (series.data.length === 0) return emptyState('overview-empty', 'No requests in this period yet.');
    const perBucket = new Map();
    for (const row of series.data) {
      const at = Date.parse(row.time);
      perBucket.set(at, (perBucket.get(at) || 0) + row.credits);
    }
    const points = bucketStarts(series.from, series.to, series.bucket)
      .map((t) => ({ day: label(t, series.bucket), value: perBucket.get(Date.parse(t)) || 0 }));
    return h('div', null, barChart(points, 'credits', 'overview-chart'),
      totalsTable('overview-split-table', series.keys, `By ${series.split}`, series.other_keys));
  });
  load(outcomes, '/api/overview/outcomes', {}, (o) => h('div', null,
    h('dl', { class: 'details' },
      h('dt', null, 'Requests'), h('dd', { id: 'overview-requests' }, fmtInt(o.requests)),
      h('dt', null, 'Errors'), h('dd', { id: 'overview-errors' }, `${fmtInt(o.errors)} (${(o.error_rate * 100).toFixed(1)} %)`)),
    o.reasons.length ? dataTable({
      id: 'overview-reasons', caption: 'By reason', rows: o.reasons, stack: false,
      rowProps: (r) => ({ 'data-reason': r.reason }),
      columns: [{ label: 'Reason', cls: 'mono', render: (r) => r.reason }, { label: 'Count', num: true, key: 'count' }],
    }) : emptyState('overview-reasons-empty', 'No errors or refusals in this period.')));
  load(latency, '/api/overview/latency', {}, (l) => h('dl', { class: 'details' },
    h('dt', null, 'Requests timed'), h('dd', { id: 'overview-timed' }, fmtInt(l.count)),
    h('dt', null, 'p50'), h('dd', { id: 'overview-p50' }, l.p50_ms === null ? '—' : `≤ ${fmtInt(l.p50_ms)} ms`),
    h('dt', null, 'p99'), h('dd', { id: 'overview-p99' }, l.p99_ms === null ? '—' : `≤ ${fmtInt(l.p99_ms)} ms`)));
  load(topTokens, '/api/overview/top', { by: 'token' }, (t) => (t.data.length
    ? totalsTable('overview-top-tokens-table', t.data, 'Token', t.other_keys) : emptyState('overview-top-tokens-empty', 'No requests in this period yet.')));
  if (topUsers) {
    load(topUsers, '/api/overview/top', { by: 'user' }, (t) => (t.data.length
      ? totalsTable('overview-top-users-table', t.data, 'User', t.other_keys) : emptyState('overview-top-users-empty', 'No requests in this period yet.')));
  }
  return { title: 'Overview' };
}
