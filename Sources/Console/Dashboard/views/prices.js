// Prices (#/prices, admins only): list price per model, in credits per
// million tokens, or a fixed price per request.

import { api, listOf, seg } from '../api.js';
import {
  h, fmtInt, button, loadingState, errorState, emptyState, toast, field, dataTable, openDialog,
  confirmDialog, pageHeader, parseInteger, ValidationError, latestOnly
} from '../ui.js';

function isPerRequest(p) {
  return p && p.per_request !== null && p.per_request !== undefined;
}

function openPriceForm(price, existing, onDone) {
  const editing = !!price;
  const model = h('input', { id: 'price-form-model', type: 'text', required: true, autocomplete: 'off', readonly: editing, placeholder: 'gpt-4o-mini', value: price ? price.model : '' });
  const perRequest = isPerRequest(price);
  const modeToken = h('input', { type: 'radio', name: 'price-mode', id: 'price-form-mode-token', value: 'token', checked: !perRequest });
  const modeRequest = h('input', { type: 'radio', name: 'price-mode', id: 'price-form-mode-request', value: 'request', checked: perRequest });
  const num = (id, value) => h('input', { id, type: 'text', inputmode: 'numeric', autocomplete: 'off', value: value === null || value === undefined ? '' : String(value) });
  const input = num('price-form-input', price && price.input);
  const output = num('price-form-output', price && price.output);
  const cached = num('price-form-cached', price && price.cached_input);
  const request = num('price-form-per-request', price && price.per_request);
  // Optional prices: empty = unset (cache writes, audio and images bill as input or output, tool calls are free).
  const optional = [
    ['cache_write', 'Cache write, 5 minutes (credits / 1M tokens)', 'Empty = input price.'],
    ['cache_write_1h', 'Cache write, 1 hour (credits / 1M tokens)', 'Empty = input price.'],
    ['audio_input', 'Audio input (credits / 1M tokens)', 'Empty = input price.'],
    ['audio_output', 'Audio output (credits / 1M tokens)', 'Empty = output price.'],
    ['image_input', 'Image input (credits / 1M tokens)', 'Empty = input price.'],
    ['image_output', 'Image output (credits / 1M tokens)', 'Empty = output price.'],
  ].map(([key, label, hint]) => ({ key, label, hint, el: num(`price-form-${key.replaceAll('_', '-')}`, price && price[key]) }));
  // Per-call prices of server-side tools: empty = not charged.
  const perCall = [
    ['per_web_search', 'Per web search (credits)', 'Server-side searches the provider bills per call. Empty = not charged.'],
    ['per_web_fetch', 'Per web fetch (credits)', 'Server-side web fetches (Anthropic). Empty = not charged.'],
    ['per_file_search', 'Per file search (credits)', 'File search calls (OpenAI Responses). Empty = not charged.'],
  ].map(([key, label, hint]) => ({ key, label, hint, el: num(`price-form-${key.replaceAll('_', '-')}`, price && price[key]) }));
  const maxOutput = num('price-form-max-output', price && price.max_output);
  const tokenFields = h('div', { class: 'field-group', id: 'price-form-token-fields' },
    field('Input (credits / 1M tokens)', input),
    field('Cached input (credits / 1M tokens)', cached, 'Empty = same as input.'),
    field('Output (credits / 1M tokens)', output),
    ...optional.map((o) => field(o.label, o.el, o.hint)));
  const requestFields = h('div', { class: 'field-group', id: 'price-form-request-fields' },
    field('Price per request (credits)', request));
  const commonFields = h('div', { class: 'field-group', id: 'price-form-common-fields' },
    ...perCall.map((o) => field(o.label, o.el, o.hint)),
    field('Max output (tokens)', maxOutput, 'The model\'s output window. Empty = the server default.'));
  const sync = () => {
    tokenFields.hidden = modeRequest.checked;
    requestFields.hidden = !modeRequest.checked;
  };
  modeToken.addEventListener('change', sync);
  modeRequest.addEventListener('change', sync);
  sync();

  return openDialog({
    id: 'price-dialog',
    title: editing ? `Edit price of “${price.model}”` : 'Set a model price',
    fields: [
      field('Model', model, editing ? null : 'Exactly as clients request it.'),
      h('fieldset', { class: 'fieldset' }, h('legend', null, 'Billed'),
        h('div', { class: 'field-check' }, modeToken, h('label', { for: 'price-form-mode-token' }, 'per token')),
        h('div', { class: 'field-check' }, modeRequest, h('label', { for: 'price-form-mode-request' }, 'per request'))),
      tokenFields,
      requestFields,
      commonFields,
    ],
    submitLabel: 'Save price',
    submitId: 'price-form-submit',
    cancelId: 'price-form-cancel',
    errorId: 'price-form-error',
    async onSubmit() {
      const name = model.value.trim();
      if (!name) throw new ValidationError('Enter the model name.', 'price-form-model');
      if (!editing && existing.has(name)) throw new ValidationError(`“${name}” already has a price. Edit it instead.`, 'price-form-model');
      let body;
      if (modeRequest.checked) {
        body = { per_request: parseInteger(request.value, { label: 'Price per request', min: 0, field: 'price-form-per-request', allowEmpty: false }) };
      } else {
        const inputPrice = parseInteger(input.value, { label: 'Input price', min: 0, field: 'price-form-input', allowEmpty: false });
        const outputPrice = parseInteger(output.value, { label: 'Output price', min: 0, field: 'price-form-output', allowEmpty: false });
        const cachedPrice = parseInteger(cached.value, { label: 'Cached input price', min: 0, field: 'price-form-cached' });
        body = { input: inputPrice, output: outputPrice, cached_input: cachedPrice ?? inputPrice };
        for (const o of optional) {
          const value = parseInteger(o.el.value, { label: o.label, min: 0, field: o.el.id });
          if (value !== null) body[o.key] = value;
        }
      }
      for (const o of perCall) {
        const value = parseInteger(o.el.value, { label: o.label, min: 0, field: o.el.id });
        if (value !== null) body[o.key] = value;
      }
      const outputWindow = parseInteger(maxOutput.value, { label: 'Max output', min: 1, field: maxOutput.id });
      if (outputWindow !== null) body.max_output = outputWindow;
      return api('PUT', `/api/prices/${seg(name)}`, { body });
    },
    onSuccess() {
      toast('Price saved.');
      onDone();
    },
  });
}

export function pricesView(root) {
  const list = h('div', { id: 'prices-list' });
  let existing = new Set();
  const create = button('Add model price', { class: 'btn btn-primary', id: 'price-create', onclick: () => openPriceForm(null, existing, load) });
  root.replaceChildren(pageHeader('Prices', create),
    h('p', { class: 'lead' }, 'List prices, before group multipliers. Each charge records the prices it was settled at, so a change here never rewrites history.'),
    list);

  const begin = latestOnly();

  async function load() {
    const current = begin();
    list.replaceChildren(loadingState('Loading prices…'));
    try {
      const rows = listOf(await api('GET', '/api/prices'));
      if (!current()) return;
      existing = new Set(rows.map((p) => p.model));
      if (rows.length === 0) {
        list.replaceChildren(emptyState('prices-empty', 'No prices yet — add one for each model you serve.'));
        return;
      }
      const cell = (v) => (v === null || v === undefined ? '—' : fmtInt(v));
      list.replaceChildren(dataTable({
        id: 'prices-table',
        caption: 'Model prices',
        rows,
        rowProps: (p) => ({ 'data-model': p.model }),
        columns: [
          { label: 'Model', test: 'price-model', cls: 'mono', render: (p) => p.model },
          { label: 'Input', test: 'price-input', num: true, render: (p) => cell(p.input) },
          { label: 'Cached input', test: 'price-cached', num: true, render: (p) => cell(p.cached_input) },
          { label: 'Output', test: 'price-output', num: true, render: (p) => cell(p.output) },
          { label: 'Cache write 5m / 1h', test: 'price-cache-write', num: true, render: (p) => `${cell(p.cache_write)} / ${cell(p.cache_write_1h)}` },
          { label: 'Audio in / out', test: 'price-audio', num: true, render: (p) => `${cell(p.audio_input)} / ${cell(p.audio_output)}` },
          { label: 'Image in / out', test: 'price-image', num: true, render: (p) => `${cell(p.image_input)} / ${cell(p.image_output)}` },
          { label: 'Per web search', test: 'price-per-web-search', num: true, render: (p) => cell(p.per_web_search) },
          { label: 'Per fetch / file search', test: 'price-per-call', num: true, render: (p) => `${cell(p.per_web_fetch)} / ${cell(p.per_file_search)}` },
          { label: 'Per request', test: 'price-per-request', num: true, render: (p) => cell(p.per_request) },
          {
            label: 'Actions',
            cls: 'actions-cell',
            render: (p) => h('div', { class: 'row-actions' },
              button('Edit', { class: 'btn btn-small', 'data-action': 'edit', 'data-test': 'price-edit', onclick: () => openPriceForm(p, existing, load) }),
              button('Delete', {
                class: 'btn btn-small btn-danger-ghost',
                'data-action': 'delete',
                'data-test': 'price-delete',
                onclick: () => confirmDialog({
                  title: 'Delete price?',
                  message: `Delete the price of “${p.model}”? Past charges keep the price they were settled at.`,
                  confirmLabel: 'Delete price',
                  onConfirm: () => api('DELETE', `/api/prices/${seg(p.model)}`),
                  onSuccess: () => { toast(`Price of “${p.model}” deleted.`); load(); },
                }),
              })),
          },
        ],
      }));
    } catch (error) {
      if (!current()) return;
      list.replaceChildren(errorState(error, load));
    }
  }

  load();
  return { title: 'Prices' };
}
