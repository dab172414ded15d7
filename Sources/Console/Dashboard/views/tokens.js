// Tokens: the list, and the dialogs shared with the token detail page
// (create/edit, one-time key, regenerate, top up, delete).

import { api, listOf, seg } from '../api.js';
import {
  h, fmtInt, fmtRemaining, fmtDate, statusBadge, button, loadingState, errorState, emptyState,
  banner, toast, field, checkbox, dataTable, openDialog, confirmDialog, showSecretDialog,
  CursorPager, pageHeader, parseInteger, ValidationError, splitList, joinList, sameList,
  toLocalInput, fromLocalInput, latestOnly
} from '../ui.js';
import { budgetFields } from './budget.js';

const PAGE_SIZE = 25;
const STATUSES = ['enabled', 'disabled', 'expired', 'exhausted'];

export function tokenHref(id) {
  return `#/tokens/${encodeURIComponent(id)}`;
}

/* ---------- create / edit ---------- */

/** Group names as suggestions: every group for admins, a user's own and the selectable ones for users. */
async function groupSuggestions(ctx, datalist) {
  try {
    const groups = listOf(await api('GET', '/api/groups'));
    datalist.replaceChildren(...groups.map((g) => h('option', { value: g.name })));
  } catch {
    // suggestions only: the field still accepts any name
  }
}

/**
 * The token form. With `token` it edits (PATCH with only what changed),
 * without it creates and then shows the new key once.
 */
export function openTokenForm(ctx, { token = null, onSaved } = {}) {
  const editing = !!token;
  const name = h('input', { id: 'token-form-name', type: 'text', required: true, maxlength: '128', autocomplete: 'off', value: token ? token.name : '' });

  const quota = h('input', {
    id: 'token-form-quota', type: 'text', inputmode: 'numeric', autocomplete: 'off',
    placeholder: 'e.g. 1,000,000', value: token && token.quota !== null && token.quota !== undefined ? String(token.quota) : '',
  });
  const unlimited = checkbox('token-form-quota-unlimited', 'Unlimited (draws on your balance)',
    editing ? token.quota === null || token.quota === undefined : false);
  unlimited.input.addEventListener('change', () => { if (unlimited.input.checked) quota.value = ''; });
  quota.addEventListener('input', () => { if (quota.value.trim()) unlimited.input.checked = false; });

  const expires = h('input', { id: 'token-form-expires', type: 'datetime-local', value: token ? toLocalInput(token.expires_at) : '' });
  const never = checkbox('token-form-expires-never', 'Never expires', editing ? !token.expires_at : false);
  never.input.addEventListener('change', () => { if (never.input.checked) expires.value = ''; });
  expires.addEventListener('input', () => { if (expires.value) never.input.checked = false; });

  const models = h('input', { id: 'token-form-models', type: 'text', autocomplete: 'off', placeholder: 'gpt-4o-mini, claude-sonnet-4', value: token ? joinList(token.models) : '' });
  const ips = h('textarea', { id: 'token-form-ips', rows: '2', autocomplete: 'off', placeholder: '203.0.113.7, 10.0.0.0/8, 2001:db8::/32', value: token ? joinList(token.ips) : '' });
  const groupList = h('datalist', { id: 'token-form-group-list' });
  const group = h('input', { id: 'token-form-group', type: 'text', autocomplete: 'off', list: 'token-form-group-list', value: token ? token.group || '' : '' });
  groupSuggestions(ctx, groupList);
  const budget = budgetFields('token-form', token ? token.budget : null);

  const fields = [
    field('Name', name, 'So you recognise it later, e.g. "chat app — production".'),
    h('div', { class: 'field-row' },
      h('fieldset', { class: 'fieldset' }, h('legend', null, 'Quota (credits)'),
        field('Cap', quota, 'Empty = unlimited.'), unlimited.el),
      h('fieldset', { class: 'fieldset' }, h('legend', null, 'Expiry'),
        field('Expires at (local time)', expires, 'Empty = never.'), never.el)),
    budget.el,
    field('Allowed models', models, 'Comma separated. Empty = every model its group may use.'),
    field('Allowed IPs / CIDR ranges', ips, 'Comma or line separated, IPv4 or IPv6. Empty = any address.'),
    field('Group', group, editing ? 'Yours, or one your administrator made selectable.' : 'Empty = your own group; or one your administrator made selectable.'),
    groupList,
  ];

  function readForm() {
    const body = {};
    const nameValue = name.value.trim();
    if (!nameValue) throw new ValidationError('Give the token a name.', 'token-form-name');
    body.name = nameValue;

    body.quota = unlimited.input.checked ? null
      : parseInteger(quota.value, { label: 'Quota', min: 0, field: 'token-form-quota' });

    if (never.input.checked || !expires.value) {
      body.expires_at = null;
    } else {
      const at = fromLocalInput(expires.value);
      if (at === undefined) throw new ValidationError('Expiry is not a valid date and time.', 'token-form-expires');
      body.expires_at = at;
    }
    body.models = splitList(models.value);
    body.ips = splitList(ips.value);
    body.group = group.value.trim();
    body.budget = budget.read();
    return body;
  }

  return openDialog({
    id: 'token-dialog',
    title: editing ? `Edit token “${token.name}”` : 'Create token',
    fields,
    wide: true,
    submitLabel: editing ? 'Save changes' : 'Create token',
    submitId: 'token-form-submit',
    cancelId: 'token-form-cancel',
    errorId: 'token-form-error',
    async onSubmit() {
      const body = readForm();
      if (!editing) {
        if (body.expires_at && new Date(body.expires_at) <= new Date()) {
          throw new ValidationError('Expiry must be in the future.', 'token-form-expires');
        }
        if (!body.group) delete body.group;
        if (!body.budget) delete body.budget;
        return api('POST', '/api/tokens', { body });
      }
      // Edit: send only what changed, so an untouched past expiry is not re-validated.
      const patch = {};
      if (body.name !== token.name) patch.name = body.name;
      if (body.quota !== (token.quota ?? null)) patch.quota = body.quota;
      const oldExpiry = token.expires_at ? toLocalInput(token.expires_at) : '';
      const newExpiry = body.expires_at ? expires.value : '';
      if (oldExpiry !== newExpiry) {
        if (body.expires_at && new Date(body.expires_at) <= new Date()) {
          throw new ValidationError('Expiry must be in the future.', 'token-form-expires');
        }
        patch.expires_at = body.expires_at;
      }
      if (!sameList(body.models, token.models)) patch.models = body.models;
      if (!sameList(body.ips, token.ips)) patch.ips = body.ips;
      if (body.group !== (token.group || '') && body.group !== '') patch.group = body.group;
      if (budget.changed(body.budget)) patch.budget = body.budget;
      if (Object.keys(patch).length === 0) return token;
      return api('PATCH', `/api/tokens/${seg(token.id)}`, { body: patch });
    },
    onSuccess(result) {
      if (!editing && result && result.key) {
        showSecretDialog({
          title: `Token “${result.name}” created`,
          label: 'API key',
          secret: result.key,
          note: 'Use it as "Authorization: Bearer <key>" (OpenAI), "x-api-key" (Anthropic) or "x-goog-api-key" (Gemini).',
        });
      } else if (editing) {
        toast('Token saved.');
      }
      if (onSaved) onSaved(result);
    },
  });
}

/* ---------- lifecycle actions ---------- */

export function openRegenerate(token, onDone) {
  const grace = h('input', { id: 'regenerate-grace', type: 'text', inputmode: 'numeric', autocomplete: 'off', placeholder: '0' });
  return openDialog({
    id: 'regenerate-dialog',
    title: `Regenerate “${token.name}”`,
    intro: h('p', null, 'A new secret replaces the current one. Apps that still use the old key stop working — unless you keep it valid for a grace period while you roll the new key out.'),
    fields: [field('Grace period for the old key (seconds)', grace, 'Empty or 0 = the old key stops at once. 3600 = one hour.')],
    submitLabel: 'Regenerate key',
    submitId: 'regenerate-submit',
    cancelId: 'regenerate-cancel',
    errorId: 'regenerate-error',
    danger: true,
    async onSubmit() {
      const seconds = parseInteger(grace.value, { label: 'Grace period', min: 0, field: 'regenerate-grace' });
      const body = seconds ? { grace_seconds: seconds } : {};
      return api('POST', `/api/tokens/${seg(token.id)}/regenerate`, { body });
    },
    onSuccess(result) {
      showSecretDialog({
        title: `New key for “${result.name || token.name}”`,
        label: 'API key',
        secret: result.key,
        note: grace.value && Number(grace.value.replace(/\D/g, '')) > 0
          ? 'The old key keeps working until the grace period ends.'
          : 'The old key no longer works.',
      });
      if (onDone) onDone(result);
    },
  });
}

export function openTopUp(token, onDone) {
  const amount = h('input', { id: 'topup-amount', type: 'text', inputmode: 'numeric', autocomplete: 'off', required: true, placeholder: 'e.g. 500,000' });
  return openDialog({
    id: 'topup-dialog',
    title: `Top up “${token.name}”`,
    intro: h('p', null, `Raises the token's cap. Now: cap ${fmtInt(token.quota)}, used ${fmtInt(token.used)}, remaining ${fmtRemaining(token.remaining)} credits.`),
    fields: [field('Credits to add', amount)],
    submitLabel: 'Top up',
    submitId: 'topup-submit',
    cancelId: 'topup-cancel',
    errorId: 'topup-error',
    async onSubmit() {
      const value = parseInteger(amount.value, { label: 'Amount', min: 1, field: 'topup-amount', allowEmpty: false });
      return api('POST', `/api/tokens/${seg(token.id)}/topup`, { body: { amount: value } });
    },
    onSuccess(result) {
      toast(`Added ${fmtInt(amount.value.replace(/\D/g, ''))} credits.`);
      if (onDone) onDone(result);
    },
  });
}

export function confirmDeleteToken(token, onDone) {
  return confirmDialog({
    title: 'Delete token?',
    message: `Delete “${token.name}” (${token.key_hint || token.id})? Apps using it stop working at once. This cannot be undone.`,
    confirmLabel: 'Delete token',
    onConfirm: () => api('DELETE', `/api/tokens/${seg(token.id)}`),
    onSuccess() {
      toast(`Token “${token.name}” deleted.`);
      if (onDone) onDone();
    },
  });
}

/**
 * The action buttons for one token (list row or detail page).
 * onChanged(token?) after a change; onDeleted() after delete; notice shows errors.
 */
export function tokenActions(ctx, token, { onChanged, onDeleted, notice, idPrefix }) {
  const idFor = (action) => (idPrefix ? `${idPrefix}-${action}` : null);
  const disabled = token.status === 'disabled';
  const toggle = button(disabled ? 'Enable' : 'Disable', {
    class: 'btn btn-small',
    id: idFor(disabled ? 'enable' : 'disable'),
    'data-action': disabled ? 'enable' : 'disable',
    'data-test': disabled ? 'token-enable' : 'token-disable',
    onclick: async (event) => {
      const btn = event.currentTarget;
      btn.disabled = true;
      if (notice) notice.clear();
      try {
        const updated = await api('POST', `/api/tokens/${seg(token.id)}/${disabled ? 'enable' : 'disable'}`);
        toast(`Token “${token.name}” ${disabled ? 'enabled' : 'disabled'}.`);
        onChanged(updated);
      } catch (error) {
        btn.disabled = false;
        if (notice) notice.show(error.message);
      }
    },
  });
  const unlimited = token.quota === null || token.quota === undefined;
  return h('div', { class: 'row-actions' },
    button('Edit', { class: 'btn btn-small', id: idFor('edit'), 'data-action': 'edit', 'data-test': 'token-edit', onclick: () => openTokenForm(ctx, { token, onSaved: onChanged }) }),
    toggle,
    button('Regenerate', { class: 'btn btn-small', id: idFor('regenerate'), 'data-action': 'regenerate', 'data-test': 'token-regenerate', onclick: () => openRegenerate(token, onChanged) }),
    button('Top up', {
      class: 'btn btn-small', id: idFor('topup'), 'data-action': 'topup', 'data-test': 'token-topup',
      disabled: unlimited, title: unlimited ? 'Unlimited tokens draw on the balance: credit the user instead' : null,
      onclick: () => openTopUp(token, onChanged),
    }),
    button('Delete', { class: 'btn btn-small btn-danger-ghost', id: idFor('delete'), 'data-action': 'delete', 'data-test': 'token-delete', onclick: () => confirmDeleteToken(token, onDeleted) }));
}

/* ---------- the list page ---------- */

export function tokensView(root, ctx) {
  const filterName = ctx.query.get('name') || '';
  const filterStatus = STATUSES.includes(ctx.query.get('status')) ? ctx.query.get('status') : '';
  const notice = banner('tokens-notice');
  const list = h('div', { id: 'tokens-list' });
  const pager = new CursorPager('tokens', () => load());

  const create = button('Create token', { class: 'btn btn-primary', id: 'token-create', onclick: () => openTokenForm(ctx, { onSaved: () => { pager.reset(); load(); } }) });

  const nameInput = h('input', { id: 'tokens-filter-name', type: 'search', value: filterName, placeholder: 'Name contains…', autocomplete: 'off' });
  const statusSelect = h('select', { id: 'tokens-filter-status', value: filterStatus },
    h('option', { value: '' }, 'Any status'), STATUSES.map((st) => h('option', { value: st }, st)));
  const filters = h('form', { class: 'filters', id: 'tokens-filters', role: 'search', 'aria-label': 'Filter tokens' },
    field('Name', nameInput), field('Status', statusSelect),
    h('div', { class: 'filter-actions' }, h('button', { type: 'submit', class: 'btn', id: 'tokens-filter-apply' }, 'Filter')));
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.setQuery({ name: nameInput.value.trim(), status: statusSelect.value });
    pager.reset();
    load();
  });
  statusSelect.addEventListener('change', () => filters.requestSubmit());

  root.replaceChildren(pageHeader('Tokens', create), filters, notice.el, list);

  const begin = latestOnly();

  async function load() {
    const current = begin();
    list.replaceChildren(loadingState('Loading tokens…'));
    const name = nameInput.value.trim();
    const status = statusSelect.value;
    try {
      const result = await api('GET', '/api/tokens', { query: { name, status, cursor: pager.cursor, limit: PAGE_SIZE } });
      if (!current()) return;
      const rows = listOf(result);
      if (rows.length === 0 && pager.cursor) {
        list.replaceChildren(emptyState('tokens-empty', 'No more tokens.'), pager.render(null));
        return;
      }
      if (rows.length === 0) {
        list.replaceChildren(name || status
          ? emptyState('tokens-empty', 'No tokens match these filters.')
          : emptyState('tokens-empty', 'No tokens yet — create one.',
            button('Create your first token', { class: 'btn btn-primary', id: 'tokens-empty-create', onclick: () => create.click() })));
        return;
      }
      const reload = () => load();
      const table = dataTable({
        id: 'tokens-table',
        caption: 'Tokens',
        rows,
        rowProps: (t) => ({ 'data-token-id': t.id, 'data-status': t.status }),
        columns: [
          { label: 'Name', test: 'token-name', render: (t) => h('a', { href: tokenHref(t.id), class: 'strong-link' }, t.name || '(unnamed)') },
          { label: 'Status', test: 'token-status', render: (t) => statusBadge(t.status) },
          { label: 'Key', test: 'token-key-hint', cls: 'mono', render: (t) => t.key_hint || '—' },
          { label: 'Used', test: 'token-used', num: true, key: 'used' },
          { label: 'Remaining', test: 'token-remaining', num: true, render: (t) => fmtRemaining(t.remaining) },
          { label: 'Expires', test: 'token-expiry', render: (t) => fmtDate(t.expires_at, 'Never') },
          { label: 'Last used', test: 'token-last-used', render: (t) => fmtDate(t.last_used_at, 'Never') },
          { label: 'Actions', cls: 'actions-cell', render: (t) => tokenActions(ctx, t, { onChanged: reload, onDeleted: reload, notice }) },
        ],
      });
      list.replaceChildren(table, pager.render(result && result.next_cursor));
    } catch (error) {
      if (!current()) return;
      list.replaceChildren(errorState(error, () => load()));
    }
  }

  load();
  return { title: 'Tokens' };
}
