// Token detail (#/tokens/{id}): its fields, a usage chart drawn from
// /api/usage?token=, and its recent requests from /api/logs?token=.

import { api, listOf, seg } from '../api.js';
import {
  h, fmtInt, fmtRemaining, fmtDate, statusBadge, loadingState, errorState, emptyState,
  banner, field, dataTable, pageHeader, toRFC3339, latestOnly
} from '../ui.js';
import { barChart, lastDays } from '../chart.js';
import { tokenActions } from './tokens.js';
import { budgetSummary } from './budget.js';
import { logsTable } from './logs-table.js';

const RECENT_LIMIT = 20;
const RANGES = [7, 30, 90];
const METRICS = {
  credits: { label: 'Credits', unit: 'credits', value: (r) => Number(r.credits) || 0 },
  requests: { label: 'Requests', unit: 'requests', value: (r) => Number(r.requests) || 0 },
  tokens: { label: 'Tokens (prompt + completion)', unit: 'tokens', value: (r) => (Number(r.prompt_tokens) || 0) + (Number(r.completion_tokens) || 0) },
};

function detailList(token) {
  const item = (label, key, value) => [h('dt', null, label), h('dd', { 'data-field': key }, value)];
  const list = (values, empty) => (Array.isArray(values) && values.length
    ? h('ul', { class: 'chips' }, values.map((v) => h('li', { class: 'chip' }, v)))
    : empty);
  return h('dl', { class: 'details', id: 'token-detail-fields' },
    item('Status', 'status', statusBadge(token.status, 'token-detail-status')),
    item('Key', 'key_hint', h('span', { class: 'mono' }, token.key_hint || '—')),
    item('Quota', 'quota', token.quota === null || token.quota === undefined ? 'Unlimited (draws on the owner’s balance)' : `${fmtInt(token.quota)} credits`),
    item('Used', 'used', `${fmtInt(token.used)} credits`),
    item('Remaining', 'remaining', token.remaining === null || token.remaining === undefined ? '∞' : `${fmtRemaining(token.remaining)} credits`),
    item('Budget', 'budget', budgetSummary(token.budget)),
    item('Expires', 'expires_at', fmtDate(token.expires_at, 'Never')),
    item('Models', 'models', list(token.models, 'All models its group may use')),
    item('IP allowlist', 'ips', list(token.ips, 'Any address')),
    item('Group', 'group', token.group || '—'),
    item('Created', 'created_at', fmtDate(token.created_at)),
    item('Last used', 'last_used_at', fmtDate(token.last_used_at, 'Never')),
    item('ID', 'id', h('span', { class: 'mono' }, token.id)));
}

function usageSection(tokenId) {
  const range = h('select', { id: 'usage-range', value: '30' }, RANGES.map((d) => h('option', { value: String(d) }, `Last ${d} days`)));
  const metric = h('select', { id: 'usage-metric', value: 'credits' }, Object.entries(METRICS).map(([k, m]) => h('option', { value: k }, m.label)));
  const body = h('div', { id: 'usage-body', class: 'usage-body' });
  let rows = [];
  let days = [];

  function draw() {
    const m = METRICS[metric.value] || METRICS.credits;
    const byDay = new Map(days.map((d) => [d, 0]));
    const byModel = new Map();
    for (const r of rows) {
      if (byDay.has(r.day)) byDay.set(r.day, byDay.get(r.day) + m.value(r));
      const agg = byModel.get(r.model) || { model: r.model, requests: 0, prompt_tokens: 0, completion_tokens: 0, credits: 0 };
      agg.requests += Number(r.requests) || 0;
      agg.prompt_tokens += Number(r.prompt_tokens) || 0;
      agg.completion_tokens += Number(r.completion_tokens) || 0;
      agg.credits += Number(r.credits) || 0;
      byModel.set(r.model, agg);
    }
    if (rows.length === 0) {
      body.replaceChildren(emptyState('usage-empty', 'No usage in this period yet.'));
      return;
    }
    const points = days.map((d) => ({ day: d, value: byDay.get(d) }));
    const total = points.reduce((sum, p) => sum + p.value, 0);
    const models = [...byModel.values()].sort((a, b) => b.credits - a.credits);
    body.replaceChildren(
      h('p', { class: 'usage-total', id: 'usage-total' }, `${fmtInt(total)} ${m.unit} in the last ${days.length} days`),
      h('div', { class: 'chart-wrap' }, barChart(points, m.unit, 'usage-chart')),
      h('h3', null, 'By model'),
      dataTable({
        id: 'usage-models-table',
        caption: 'Usage by model',
        rows: models,
        rowProps: (r) => ({ 'data-model': r.model }),
        columns: [
          { label: 'Model', render: (r) => r.model || '—' },
          { label: 'Requests', num: true, key: 'requests' },
          { label: 'Prompt tokens', num: true, key: 'prompt_tokens' },
          { label: 'Completion tokens', num: true, key: 'completion_tokens' },
          { label: 'Credits', num: true, key: 'credits' },
        ],
      }));
  }

  const begin = latestOnly();

  async function load() {
    const current = begin();
    body.replaceChildren(loadingState('Loading usage…'));
    const count = Number(range.value) || 30;
    days = lastDays(count);
    const from = new Date(`${days[0]}T00:00:00Z`);
    try {
      // No `to`: the server's default is its own "now", to the millisecond. A
      // browser-side `to` (whole seconds, and another clock) left out the
      // requests of the current second.
      const result = await api('GET', '/api/usage', { query: { token: tokenId, from: toRFC3339(from) } });
      if (!current()) return;
      rows = listOf(result).filter((r) => !r.token_id || r.token_id === tokenId);
      draw();
    } catch (error) {
      if (!current()) return;
      body.replaceChildren(errorState(error, load));
    }
  }

  range.addEventListener('change', load);
  metric.addEventListener('change', draw);
  load();
  return h('section', { class: 'card', 'aria-labelledby': 'usage-heading' },
    h('div', { class: 'section-header' }, h('h2', { id: 'usage-heading' }, 'Usage'),
      h('div', { class: 'inline-fields' }, field('Period', range), field('Show', metric))),
    body);
}

function recentSection(tokenId) {
  const body = h('div', { id: 'token-logs' });
  const begin = latestOnly();
  async function load() {
    const current = begin();
    body.replaceChildren(loadingState('Loading recent requests…'));
    try {
      const rows = listOf(await api('GET', '/api/logs', { query: { token: tokenId, limit: RECENT_LIMIT } }));
      if (!current()) return;
      body.replaceChildren(rows.length
        ? logsTable({ id: 'token-logs-table', rows, showToken: false, caption: 'Recent requests' })
        : emptyState('token-logs-empty', 'No requests with this token yet.'));
    } catch (error) {
      if (!current()) return;
      body.replaceChildren(errorState(error, load));
    }
  }
  load();
  return h('section', { class: 'card', 'aria-labelledby': 'recent-heading' },
    h('div', { class: 'section-header' }, h('h2', { id: 'recent-heading' }, 'Recent requests'),
      h('a', { href: `#/logs?token=${encodeURIComponent(tokenId)}`, id: 'token-logs-all', class: 'btn btn-small' }, 'All in Logs →')),
    body);
}

export function tokenDetailView(root, ctx) {
  const id = ctx.params[0];
  const notice = banner('token-detail-notice');
  const back = h('a', { href: '#/tokens', class: 'back-link', id: 'token-detail-back' }, '← Tokens');

  const begin = latestOnly();

  async function load() {
    const current = begin();
    root.replaceChildren(back, loadingState('Loading token…'));
    let token;
    try {
      token = await api('GET', `/api/tokens/${seg(id)}`);
      if (!current()) return;
    } catch (error) {
      if (!current()) return;
      if (error.status === 404) {
        root.replaceChildren(back, emptyState('token-not-found', 'This token does not exist or was deleted.'));
      } else {
        root.replaceChildren(back, errorState(error, load));
      }
      return;
    }
    ctx.setTitle(`Token ${token.name}`);
    const header = pageHeader(token.name || '(unnamed)');
    header.querySelector('h1').id = 'token-detail-name';
    root.replaceChildren(
      h('div', { id: 'token-detail', 'data-token-id': token.id },
        back, header,
        tokenActions(ctx, token, { onChanged: load, onDeleted: () => ctx.navigate('#/tokens'), notice, idPrefix: 'token-detail' }),
        notice.el,
        h('section', { class: 'card', 'aria-label': 'Token fields' }, detailList(token)),
        usageSection(token.id),
        recentSection(token.id)));
  }

  load();
  return { title: 'Token' };
}
