// Pricing (#/pricing): the effective price per model for the caller's group.

import { api, listOf } from '../api.js';
import { h, fmtNum, loadingState, errorState, emptyState, dataTable, pageHeader, latestOnly } from '../ui.js';

function price(value) {
  return value === null || value === undefined ? '—' : fmtNum(value);
}

export function pricingView(root) {
  const list = h('div', { id: 'pricing-list' });
  root.replaceChildren(
    pageHeader('Pricing'),
    h('p', { class: 'lead' }, 'Credits per million tokens, or per request for models billed per call. '
      + 'The effective price is the list price times your group’s multiplier; a request costs '
      + 'ceil(multiplier × (input × input price + cached × cached price + output × output price) / 1,000,000) credits, '
      + 'with cache writes, audio and web searches at their own prices where the model has them.'),
    list);

  const begin = latestOnly();

  async function load() {
    const current = begin();
    list.replaceChildren(loadingState('Loading prices…'));
    try {
      const rows = listOf(await api('GET', '/api/pricing'));
      if (!current()) return;
      if (rows.length === 0) {
        list.replaceChildren(emptyState('pricing-empty', 'No models are priced for your group yet.'));
        return;
      }
      list.replaceChildren(dataTable({
        id: 'pricing-table',
        caption: 'Prices per model',
        rows,
        rowProps: (r) => ({ 'data-model': r.model }),
        columns: [
          { label: 'Model', test: 'pricing-model', cls: 'mono', render: (r) => r.model },
          { label: 'Input', test: 'pricing-input', num: true, render: (r) => price(r.input) },
          { label: 'Cached input', test: 'pricing-cached', num: true, render: (r) => price(r.cached_input) },
          { label: 'Output', test: 'pricing-output', num: true, render: (r) => price(r.output) },
          { label: 'Per request', test: 'pricing-per-request', num: true, render: (r) => price(r.per_request) },
          { label: 'Multiplier', test: 'pricing-multiplier', num: true, render: (r) => (r.multiplier === null || r.multiplier === undefined ? '—' : `× ${r.multiplier}`) },
          { label: 'Effective input', test: 'pricing-effective-input', num: true, render: (r) => price(r.effective_input) },
          { label: 'Effective output', test: 'pricing-effective-output', num: true, render: (r) => price(r.effective_output) },
          { label: 'Effective cache write 5m / 1h', test: 'pricing-effective-cache-write', num: true, render: (r) => `${price(r.effective_cache_write)} / ${price(r.effective_cache_write_1h)}` },
          { label: 'Effective audio in / out', test: 'pricing-effective-audio', num: true, render: (r) => `${price(r.effective_audio_input)} / ${price(r.effective_audio_output)}` },
          { label: 'Per web search', test: 'pricing-effective-web-search', num: true, render: (r) => price(r.effective_per_web_search) },
        ],
      }));
    } catch (error) {
      if (!current()) return;
      list.replaceChildren(errorState(error, load));
    }
  }

  load();
  return { title: 'Pricing' };
}
