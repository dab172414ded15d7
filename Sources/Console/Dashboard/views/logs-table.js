// The request-history table, shared by the Logs page and the token detail page.

import { h, dataTable, fmtInt, fmtDate, fmtDuration, badge } from '../ui.js';
import { tokenHref } from './tokens.js';

const TYPE_KIND = { settled: 'ok', voided: 'muted', expired: 'warn', adjusted: 'info' };

// The usage parts priced apart (Docs/billing.md), only those the request had.
function partsCell(row) {
  const parts = [
    ['cache write', row.cache_write_tokens], ['cache write 1h', row.cache_write_1h_tokens], ['audio in', row.audio_input_tokens],
    ['audio out', row.audio_output_tokens], ['image in', row.image_input_tokens], ['image out', row.image_output_tokens],
    ['web searches', row.web_search_requests], ['web fetches', row.web_fetch_requests], ['file searches', row.file_search_calls],
  ];
  return parts.filter(([, n]) => n).map(([name, n]) => `${name} ${fmtInt(n)}`).join(' · ') || '—';
}

function statusCell(row) {
  const code = row.status;
  if (code === null || code === undefined || code === '') return '—';
  const n = Number(code);
  const kind = Number.isFinite(n) ? (n >= 200 && n < 300 ? 'ok' : (n >= 400 ? 'danger' : 'neutral')) : 'neutral';
  return badge(String(code), kind);
}

function creditsCell(row) {
  if (row.estimated) {
    return h('span', { title: 'Estimated: the upstream reported no usage', class: 'estimated' }, `≈ ${fmtInt(row.credits)}`);
  }
  return fmtInt(row.credits);
}

/** The request id, linked (for admins) to its events on the ledger page. */
function requestCell(row, eventsLink) {
  if (!row.request_id) return '—';
  if (!eventsLink) return row.request_id;
  return h('a', { href: `#/ledger?request=${encodeURIComponent(row.request_id)}`, 'data-test': 'log-events-link',
    title: 'This request’s events in the ledger' }, row.request_id);
}

/** @param {{id:string, rows:object[], showToken?:boolean, eventsLink?:boolean}} options */
export function logsTable({ id, rows, showToken = true, eventsLink = false, caption = 'Request history' }) {
  const columns = [
    { label: 'Time', test: 'log-time', cls: 'nowrap', render: (r) => h('time', { datetime: r.time || '' }, fmtDate(r.time)) },
  ];
  if (showToken) {
    columns.push({
      label: 'Token', test: 'log-token',
      render: (r) => (r.token_id ? h('a', { href: tokenHref(r.token_id) }, r.token_name || r.token_id) : (r.token_name || '—')),
    });
  }
  columns.push(
    { label: 'Model', test: 'log-model', cls: 'nowrap', render: (r) => r.model || '—' },
    { label: 'Type', test: 'log-type', render: (r) => (r.type ? badge(r.type, TYPE_KIND[r.type] || 'neutral') : '—') },
    { label: 'Status', test: 'log-status', render: statusCell },
    { label: 'Prompt', test: 'log-prompt', num: true, key: 'prompt_tokens' },
    { label: 'Cached', test: 'log-cached', num: true, key: 'cached_tokens' },
    { label: 'Completion', test: 'log-completion', num: true, key: 'completion_tokens' },
    { label: 'Billed parts', test: 'log-parts', render: partsCell },
    { label: 'Credits', test: 'log-credits', num: true, render: creditsCell },
    { label: 'Duration', test: 'log-duration', num: true, render: (r) => fmtDuration(r.duration_ms) },
    { label: 'Stream', test: 'log-stream', render: (r) => (r.stream ? 'yes' : 'no') },
    // `channel` is the channel's id; `channel_name` its name (null once the channel is deleted).
    { label: 'Channel', test: 'log-channel', render: (r) => (r.channel_name ? h('span', { title: r.channel || '' }, r.channel_name) : (r.channel || '—')) },
    // The routing strategy that chose the channel (Docs/routing.md); none for expiries and adjustments.
    { label: 'Routing', test: 'log-routing', render: (r) => r.routing || '—' },
    { label: 'Request ID', test: 'log-request-id', cls: 'mono', render: (r) => requestCell(r, eventsLink) },
    // The provider's own id of the answer (Docs/auditing.md, "Provider requests"): what its invoice names.
    { label: 'Provider ID', test: 'log-provider-id', cls: 'mono', render: (r) => r.provider_request_id || '—' },
  );
  return dataTable({
    id,
    caption,
    rows,
    stack: false,
    rowProps: (r) => ({ 'data-request-id': r.request_id, 'data-type': r.type }),
    columns,
  });
}
