// Ledger (#/ledger?type=&actor=&token=&request=&from=&to=, admin): the head an
// auditor pins (sequence and hash), events by type, snapshots, the last
// verification and "Verify now" with its progress, and an events browser whose
// charges link to their request's log row (and back, from Logs).

import { api, listOf } from '../api.js';
import {
  h, dataTable, fmtInt, fmtDate, badge, button, loadingState, errorState, emptyState, field, pageHeader,
  toLocalInput, readTimeRange, latestOnly
} from '../ui.js';

const PAGE_SIZE = 50;
const FILTER_KEYS = ['type', 'actor', 'token', 'request', 'from', 'to'];
// How often the page asks how far a running verification has got.
const POLL_MS = 500;

function section(title, id, ...children) {
  return h('section', { class: 'card', id, 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), ...children);
}

/** One line of a definition list: <dt>label</dt><dd id=…>value</dd>. */
function fact(label, id, value, cls) {
  return [h('dt', null, label), h('dd', { id, class: cls }, value)];
}

function headFacts(head) {
  return h('dl', { class: 'details', id: 'ledger-head' },
    fact('Head sequence', 'ledger-head-seq', fmtInt(head.seq)),
    fact('Head hash (SHA-256)', 'ledger-head-hash', head.hash, 'mono'),
    fact('Last event', 'ledger-head-time', fmtDate(head.time)));
}

function countsTable(byType) {
  const rows = Object.entries(byType).map(([type, count]) => ({ type, count }));
  if (rows.length === 0) return emptyState('ledger-counts-empty', 'No events yet.');
  return dataTable({
    id: 'ledger-counts', caption: 'Events by type', rows, stack: false,
    rowProps: (r) => ({ 'data-type': r.type }),
    columns: [
      { label: 'Type', test: 'count-type', cls: 'mono', render: (r) => r.type },
      { label: 'Events', test: 'count-events', num: true, key: 'count' },
    ],
  });
}

function verifyReport(last) {
  if (!last) return emptyState('ledger-verify-never', 'Not verified since the server started. Run "Verify now", or `tally verify` on the data directory.');
  const verdict = last.error ? badge('could not run', 'danger')
    : (last.clean ? badge('intact', 'ok') : badge(`${fmtInt(last.findings_total)} finding(s)`, 'danger'));
  const findings = last.findings.length
    ? h('ul', { id: 'ledger-verify-findings', class: 'findings' }, last.findings.map((f) =>
      h('li', { 'data-kind': f.kind }, `[${f.kind}]${f.seq ? ` event ${f.seq}` : ''}: ${f.message}`)))
    : null;
  return h('div', { id: 'ledger-verify-report', 'data-clean': String(last.clean) },
    h('dl', { class: 'details' },
      fact('Result', 'ledger-verify-result', verdict),
      fact('Checked', 'ledger-verify-events', `${fmtInt(last.events)} events, through ${fmtInt(last.head)}`),
      fact('Ran', 'ledger-verify-when', `${fmtDate(last.started_at)} – ${fmtDate(last.finished_at)}`),
      last.first_bad_seq ? fact('First bad event', 'ledger-verify-first-bad', fmtInt(last.first_bad_seq)) : null,
      last.error ? fact('Error', 'ledger-verify-error', last.error) : null),
    findings);
}

/** The short summary of an event's payload: what the row is about. */
function eventSummary(event) {
  const p = event.payload || {};
  const parts = [];
  if (p.request_id) {
    parts.push(h('a', { href: `#/logs?request=${encodeURIComponent(p.request_id)}`, 'data-test': 'event-log-link',
      title: 'This request’s row in Logs' }, p.request_id));
  }
  for (const key of ['token', 'user', 'model', 'credits', 'amount', 'name', 'username']) {
    if (p[key] !== undefined && p[key] !== null && typeof p[key] !== 'object') parts.push(` ${key} ${p[key]}`);
  }
  return parts.length ? h('span', null, parts) : '—';
}

function eventsTable(rows) {
  return dataTable({
    id: 'events-table', caption: 'Events', rows, stack: false,
    rowProps: (e) => ({ 'data-seq': String(e.seq), 'data-type': e.type, 'data-request-id': (e.payload && e.payload.request_id) || null }),
    columns: [
      { label: 'Seq', test: 'event-seq', num: true, key: 'seq' },
      { label: 'Time', test: 'event-time', cls: 'nowrap', render: (e) => h('time', { datetime: e.time }, fmtDate(e.time)) },
      { label: 'Actor', test: 'event-actor', cls: 'mono', render: (e) => e.actor },
      { label: 'Type', test: 'event-type', cls: 'mono', render: (e) => e.type },
      { label: 'About', test: 'event-summary', render: eventSummary },
      { label: 'Hash', test: 'event-hash', cls: 'mono', render: (e) => h('span', { title: e.hash }, `${e.hash.slice(0, 12)}…`) },
    ],
  });
}

export function ledgerView(root, ctx) {
  const applied = Object.fromEntries(FILTER_KEYS.map((k) => [k, ctx.query.get(k) || '']));
  const summary = h('div', { id: 'ledger-summary' }, loadingState('Loading the ledger…'));
  const verifyBox = h('div', { id: 'ledger-verify-box' });
  const progress = h('progress', { id: 'ledger-verify-progress', max: '1', value: '0', hidden: true });
  const progressText = h('span', { id: 'ledger-verify-state', class: 'hint', role: 'status' });
  const verifyNow = button('Verify now', { id: 'ledger-verify-now', class: 'btn btn-primary' });
  let polling = null;

  function showVerify(status) {
    const running = status.state === 'running';
    verifyNow.disabled = running;
    progress.hidden = !running;
    if (running) {
      progress.max = String(Math.max(status.total, 1));
      progress.value = String(Math.min(status.checked, status.total));
      progressText.textContent = `Verifying… ${fmtInt(status.checked)} of ${fmtInt(status.total)} events`;
    } else {
      progressText.textContent = '';
    }
    verifyBox.replaceChildren(verifyReport(status.last));
    if (running && !polling && root.isConnected) {
      polling = setTimeout(async () => {
        polling = null;
        if (!root.isConnected) return;
        try {
          showVerify(await api('GET', '/api/ledger/verify'));
        } catch (error) {
          progressText.textContent = error.message;
        }
      }, POLL_MS);
    }
  }

  verifyNow.addEventListener('click', async () => {
    verifyNow.disabled = true;
    try {
      showVerify(await api('POST', '/api/ledger/verify'));
    } catch (error) {
      verifyNow.disabled = false;
      progressText.textContent = error.message;
    }
  });

  async function loadSummary() {
    try {
      const ledger = await api('GET', '/api/ledger');
      if (!root.isConnected) return;
      summary.replaceChildren(
        section('Head', 'ledger-head-section', headFacts(ledger.head),
          h('p', { class: 'hint' }, 'Publish the head to pin the history you were shown: the same sequence must always carry the same hash (GET /api/ledger/head).')),
        section('Events by type', 'ledger-counts-section', countsTable(ledger.events_by_type)),
        section('Snapshots', 'ledger-snapshots-section', ledger.snapshots.length
          ? h('p', { id: 'ledger-snapshots' }, `At sequence ${ledger.snapshots.map(fmtInt).join(', ')}`)
          : emptyState('ledger-snapshots-empty', 'No snapshots yet: the server writes one every so many events.')));
      fillTypes(Object.keys(ledger.events_by_type));
      showVerify(ledger.verify);
    } catch (error) {
      summary.replaceChildren(errorState(error, () => loadSummary()));
    }
  }

  // --- the events browser ---
  const type = h('select', { id: 'events-filter-type' }, h('option', { value: '' }, 'Any type'));
  function fillTypes(types) {
    const current = applied.type;
    const known = new Set(types);
    if (current && !known.has(current)) types.push(current);
    type.replaceChildren(h('option', { value: '' }, 'Any type'), ...types.map((t) => h('option', { value: t }, t)));
    type.value = current;
  }
  const actor = h('input', { id: 'events-filter-actor', type: 'text', autocomplete: 'off', placeholder: 'system, relay or usr_…', value: applied.actor });
  const token = h('input', { id: 'events-filter-token', type: 'text', autocomplete: 'off', placeholder: 'tok_…', value: applied.token });
  const requestId = h('input', { id: 'events-filter-request', type: 'text', autocomplete: 'off', placeholder: 'any', value: applied.request });
  const from = h('input', { id: 'events-filter-from', type: 'datetime-local', value: toLocalInput(applied.from) });
  const to = h('input', { id: 'events-filter-to', type: 'datetime-local', value: toLocalInput(applied.to) });
  const filterError = h('p', { class: 'form-error', id: 'events-filter-error', role: 'alert', hidden: true });
  const filters = h('form', { class: 'filters', id: 'events-filters', role: 'search', 'aria-label': 'Filter events' },
    field('Type', type), field('Actor', actor), field('Token', token), field('Request ID', requestId),
    field('From', from), field('To', to),
    h('div', { class: 'filter-actions' }, h('button', { type: 'submit', class: 'btn btn-primary', id: 'events-filter-apply' }, 'Apply')),
    filterError);
  const list = h('div', { id: 'events-list' });
  // Oldest first from a cursor, like the audit stream: "Newer" continues after the last row shown.
  const cursors = [];
  let after = '';

  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    const range = readTimeRange(from, to, filterError);
    if (!range) return;
    Object.assign(applied, {
      type: type.value, actor: actor.value.trim(), token: token.value.trim(), request: requestId.value.trim(),
      from: range.from, to: range.to,
    });
    ctx.setQuery(applied);
    cursors.length = 0;
    after = '';
    loadEvents();
  });

  const begin = latestOnly();
  async function loadEvents() {
    const current = begin();
    list.replaceChildren(loadingState('Loading events…'));
    try {
      const result = await api('GET', '/api/events', { query: { ...applied, after, limit: PAGE_SIZE } });
      if (!current()) return;
      const rows = listOf(result);
      const older = button('← Older', { id: 'events-prev', disabled: cursors.length === 0, onclick: () => { after = cursors.pop() || ''; loadEvents(); } });
      const newer = button('Newer →', {
        id: 'events-next', disabled: !result.next_cursor,
        onclick: () => { cursors.push(after); after = result.next_cursor; loadEvents(); },
      });
      const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' }, older, newer);
      list.replaceChildren(rows.length ? eventsTable(rows) : emptyState('events-empty', 'No events match these filters here.'), pager);
    } catch (error) {
      if (!current()) return;
      list.replaceChildren(errorState(error, () => loadEvents()));
    }
  }

  root.replaceChildren(
    pageHeader('Ledger'),
    summary,
    section('Verification', 'ledger-verify-section',
      h('div', { class: 'verify-actions' }, verifyNow, progress, progressText), verifyBox),
    section('Events', 'events-section', filters, list));
  loadSummary();
  loadEvents();
  return { title: 'Ledger' };
}
