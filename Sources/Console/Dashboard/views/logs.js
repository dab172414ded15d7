// Logs (#/logs?token=&model=&user=&type=&request=&from=&to=): request history with
// filters kept in the address (so a filtered view can be bookmarked), cursor
// paging, and export links that carry the same filters.

import { api, apiUrl, listOf } from '../api.js';
import {
  h, loadingState, errorState, emptyState, field, CursorPager, pageHeader, toLocalInput, readTimeRange, latestOnly
} from '../ui.js';
import { logsTable } from './logs-table.js';

const PAGE_SIZE = 50;
const TYPES = ['settled', 'voided', 'expired', 'adjusted']; // the server's `type` filter values
const FILTER_KEYS = ['token', 'model', 'user', 'type', 'request', 'from', 'to'];

/** Fills a select with options loaded from the API; keeps the current value even if unknown. */
async function fillSelect(select, loader, current) {
  try {
    const options = await loader();
    const known = new Set(options.map((o) => o.value));
    const extra = current && !known.has(current) ? [h('option', { value: current }, current)] : [];
    select.append(...options.map((o) => h('option', { value: o.value }, o.label)), ...extra);
  } catch {
    if (current) select.append(h('option', { value: current }, current));
  }
  select.value = current || '';
}

export function logsView(root, ctx) {
  const q = ctx.query;
  const applied = Object.fromEntries(FILTER_KEYS.map((k) => [k, q.get(k) || '']));
  if (!ctx.isAdmin) applied.user = '';

  const tokenSelect = h('select', { id: 'logs-filter-token' }, h('option', { value: '' }, 'All tokens'));
  fillSelect(tokenSelect, async () => listOf(await api('GET', '/api/tokens', { query: { limit: 100 } }))
    .map((t) => ({ value: t.id, label: t.name ? `${t.name} (${t.key_hint || t.id})` : t.id })), applied.token);

  const model = h('input', { id: 'logs-filter-model', type: 'text', autocomplete: 'off', placeholder: 'any', value: applied.model });
  const type = h('select', { id: 'logs-filter-type', value: TYPES.includes(applied.type) ? applied.type : '' },
    h('option', { value: '' }, 'Any type'), TYPES.map((t) => h('option', { value: t }, t)));
  const requestId = h('input', { id: 'logs-filter-request', type: 'text', autocomplete: 'off', placeholder: 'any', value: applied.request });
  const from = h('input', { id: 'logs-filter-from', type: 'datetime-local', value: toLocalInput(applied.from) });
  const to = h('input', { id: 'logs-filter-to', type: 'datetime-local', value: toLocalInput(applied.to) });

  let userSelect = null;
  if (ctx.isAdmin) {
    userSelect = h('select', { id: 'logs-filter-user' }, h('option', { value: '' }, 'All users'));
    fillSelect(userSelect, async () => listOf(await api('GET', '/api/users'))
      .map((u) => ({ value: u.id, label: u.username || u.id })), applied.user);
  }

  const filterError = h('p', { class: 'form-error', id: 'logs-filter-error', role: 'alert', hidden: true });
  const reset = h('button', { type: 'button', class: 'btn btn-ghost', id: 'logs-filter-reset' }, 'Reset');
  const filters = h('form', { class: 'filters', id: 'logs-filters', role: 'search', 'aria-label': 'Filter logs' },
    field('Token', tokenSelect), field('Model', model), userSelect ? field('User', userSelect) : null,
    field('Type', type), field('Request ID', requestId), field('From', from), field('To', to),
    h('div', { class: 'filter-actions' }, h('button', { type: 'submit', class: 'btn btn-primary', id: 'logs-filter-apply' }, 'Apply'), reset),
    filterError);

  const exportCsv = h('a', { class: 'btn btn-small', id: 'logs-export-csv', download: 'tally-logs.csv' }, 'Export CSV');
  const exportJsonl = h('a', { class: 'btn btn-small', id: 'logs-export-jsonl', download: 'tally-logs.jsonl' }, 'Export JSON Lines');
  const list = h('div', { id: 'logs-list' });
  const pager = new CursorPager('logs', () => load());

  function updateExports() {
    const params = { ...applied };
    exportCsv.href = apiUrl('/api/logs/export', { format: 'csv', ...params });
    exportJsonl.href = apiUrl('/api/logs/export', { format: 'jsonl', ...params });
  }

  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    const range = readTimeRange(from, to, filterError);
    if (!range) return;
    Object.assign(applied, {
      token: tokenSelect.value,
      model: model.value.trim(),
      user: userSelect ? userSelect.value : '',
      type: type.value,
      request: requestId.value.trim(),
      from: range.from,
      to: range.to,
    });
    ctx.setQuery(applied);
    pager.reset();
    load();
  });
  reset.addEventListener('click', () => {
    tokenSelect.value = '';
    model.value = '';
    if (userSelect) userSelect.value = '';
    type.value = '';
    requestId.value = '';
    from.value = '';
    to.value = '';
    filters.requestSubmit();
  });

  root.replaceChildren(
    pageHeader('Logs', exportCsv, exportJsonl),
    filters,
    list);

  const begin = latestOnly();

  async function load() {
    const current = begin();
    updateExports();
    list.replaceChildren(loadingState('Loading requests…'));
    try {
      const result = await api('GET', '/api/logs', { query: { ...applied, cursor: pager.cursor, limit: PAGE_SIZE } });
      if (!current()) return;
      const rows = listOf(result);
      const filtered = FILTER_KEYS.some((k) => applied[k]);
      if (rows.length === 0) {
        list.replaceChildren(
          emptyState('logs-empty', pager.cursor ? 'No more requests.'
            : (filtered ? 'No requests match these filters.' : 'No requests yet. Calls made with your tokens show up here.')),
          pager.cursor ? pager.render(null) : null);
        return;
      }
      list.replaceChildren(logsTable({ id: 'logs-table', rows, eventsLink: ctx.isAdmin }), pager.render(result && result.next_cursor));
    } catch (error) {
      if (!current()) return;
      list.replaceChildren(errorState(error, () => load()));
    }
  }

  load();
  return { title: 'Logs' };
}
