// Channels (#/channels, admins only): upstream provider accounts, their
// timeouts, and the routing strategies that choose among them.
// The secret key is write-only: the API only says whether one is set
// (`key_set`), and the form only offers to set or replace it.

import { api, listOf, seg } from '../api.js';
import {
  h, fmtInt, badge, button, loadingState, errorState, emptyState, banner, toast, field, checkbox,
  dataTable, openDialog, confirmDialog, pageHeader, parseInteger, ValidationError, splitList,
  joinList, sameList, latestOnly
} from '../ui.js';

const TYPES = {
  openai: { label: 'OpenAI-compatible', base: 'https://api.openai.com' },
  anthropic: { label: 'Anthropic', base: 'https://api.anthropic.com' },
  gemini: { label: 'Gemini', base: 'https://generativelanguage.googleapis.com' },
  azure: { label: 'Azure OpenAI', base: 'https://RESOURCE.openai.azure.com' },
};

// The circuit breaker's view of a channel (Docs/routing.md): in service,
// suspended (with why and since when), or probing after its cooldown.
function healthCell(c) {
  const health = c.health || { state: 'active' };
  if (health.state === 'active') return badge('active', 'ok');
  const why = `${health.reason || ''}${health.status ? ` (HTTP ${health.status})` : ''}`;
  const since = health.since ? ` since ${new Date(health.since).toLocaleString()}` : '';
  return h('span', { title: health.detail || '' },
    badge(health.state, health.state === 'probing' ? 'warn' : 'danger'), ` ${why}${since}`);
}
const DEFAULT_BASES = new Set(Object.values(TYPES).map((t) => t.base));

// Per-channel timeouts in seconds (Docs/routing.md, "Timeouts"); empty = the server's default.
const TIMEOUTS = [['first_byte', 'First byte'], ['idle', 'Idle between chunks'], ['connect', 'Connect']];

function readSeconds(input, label) {
  const text = input.value.trim();
  if (text === '') return null;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0.1 || n > 86400) throw new ValidationError(`${label} timeout: 0.1 to 86400 seconds, or empty.`, input.id);
  return n;
}

const STRATEGIES = [
  ['weighted', 'weighted — random by weight (the default)'],
  ['least_busy', 'least_busy — fewest requests in flight'],
  ['lowest_latency', 'lowest_latency — fastest first byte on average'],
];

function openChannelForm(channel, onDone) {
  const editing = !!channel;
  const name = h('input', { id: 'channel-form-name', type: 'text', required: true, autocomplete: 'off', value: channel ? channel.name : '' });
  const type = h('select', { id: 'channel-form-type', value: channel ? channel.type : 'openai' },
    Object.entries(TYPES).map(([value, t]) => h('option', { value }, t.label)));
  const baseUrl = h('input', { id: 'channel-form-base-url', type: 'url', required: true, autocomplete: 'off', value: channel ? channel.base_url : TYPES.openai.base });
  type.addEventListener('change', () => {
    if (!baseUrl.value || DEFAULT_BASES.has(baseUrl.value)) baseUrl.value = TYPES[type.value].base;
  });
  // Write-only: never pre-filled, never read back.
  const key = h('input', { id: 'channel-form-key', type: 'password', autocomplete: 'new-password', spellcheck: 'false', required: !editing });
  const models = h('textarea', { id: 'channel-form-models', rows: '2', autocomplete: 'off', placeholder: 'gpt-4o, gpt-4o-mini', value: channel ? joinList(channel.models) : '' });
  const groups = h('input', { id: 'channel-form-groups', type: 'text', autocomplete: 'off', placeholder: 'default', value: channel ? joinList(channel.groups) : 'default' });
  const priority = h('input', { id: 'channel-form-priority', type: 'text', inputmode: 'numeric', autocomplete: 'off', value: channel ? String(channel.priority ?? 0) : '0' });
  const weight = h('input', { id: 'channel-form-weight', type: 'text', inputmode: 'numeric', autocomplete: 'off', value: channel ? String(channel.weight ?? 1) : '1' });
  const enabled = checkbox('channel-form-enabled', 'Enabled', channel ? channel.enabled !== false : true);
  const current = (channel && channel.timeouts) || {};
  const timeouts = TIMEOUTS.map(([k, label]) => ({
    k, label,
    input: h('input', { id: `channel-form-timeout-${k.replace('_', '-')}`, type: 'text', inputmode: 'decimal', autocomplete: 'off',
      placeholder: 'default', value: current[k] == null ? '' : String(current[k]) }),
  }));

  const keyHint = editing
    ? (channel.key_set ? 'A key is set. Leave empty to keep it; type a new one to replace it.' : 'No key is set yet.')
    : 'The provider’s secret. It is stored outside the audit log and never shown again.';

  return openDialog({
    id: 'channel-dialog',
    title: editing ? `Edit channel “${channel.name}”` : 'Add channel',
    wide: true,
    fields: [
      field('Name', name),
      field('Type', type),
      field('Base URL', baseUrl),
      field(editing ? 'Replace key' : 'Key', key, keyHint),
      field('Models', models, 'Comma separated: the models this channel serves.'),
      field('Groups', groups, 'Comma separated: the groups allowed to use it. Empty = every group.'),
      h('div', { class: 'field-row' },
        field('Priority', priority, 'Higher is tried first.'),
        field('Weight', weight, 'Share among equal priority.')),
      h('div', { class: 'field-row' }, timeouts.map((t) => field(`${t.label} timeout (s)`, t.input))),
      h('p', { class: 'hint' }, 'Timeouts in seconds; empty = the server’s default (tally serve --first-byte-timeout, --idle-timeout, --connect-timeout).'),
      enabled.el,
    ],
    submitLabel: editing ? 'Save changes' : 'Add channel',
    submitId: 'channel-form-submit',
    cancelId: 'channel-form-cancel',
    errorId: 'channel-form-error',
    async onSubmit() {
      const body = {
        name: name.value.trim(),
        type: type.value,
        base_url: baseUrl.value.trim(),
        models: splitList(models.value),
        groups: splitList(groups.value),
        priority: parseInteger(priority.value, { label: 'Priority', min: -1000000, field: 'channel-form-priority' }) ?? 0,
        weight: parseInteger(weight.value, { label: 'Weight', min: 0, field: 'channel-form-weight' }) ?? 1,
        enabled: enabled.input.checked,
      };
      if (!body.name) throw new ValidationError('Enter a name.', 'channel-form-name');
      if (!/^https?:\/\/\S+$/i.test(body.base_url)) throw new ValidationError('Base URL must start with http:// or https://.', 'channel-form-base-url');
      if (body.models.length === 0) throw new ValidationError('List at least one model.', 'channel-form-models');
      const wanted = Object.fromEntries(timeouts.map((t) => [t.k, readSeconds(t.input, t.label)]));
      const timeoutsChanged = TIMEOUTS.some(([k]) => (wanted[k] ?? null) !== (current[k] ?? null));
      const secret = key.value.trim();
      if (!editing) {
        if (!secret) throw new ValidationError('Enter the provider key.', 'channel-form-key');
        return api('POST', '/api/channels', { body: { ...body, key: secret, ...(timeoutsChanged ? { timeouts: wanted } : {}) } });
      }
      const patch = {};
      for (const k of ['name', 'type', 'base_url', 'priority', 'weight', 'enabled']) {
        if (body[k] !== channel[k]) patch[k] = body[k];
      }
      if (!sameList(body.models, channel.models)) patch.models = body.models;
      if (!sameList(body.groups, channel.groups)) patch.groups = body.groups;
      if (secret) patch.key = secret;
      if (timeoutsChanged) patch.timeouts = wanted;
      if (Object.keys(patch).length === 0) return channel;
      return api('PATCH', `/api/channels/${seg(channel.id)}`, { body: patch });
    },
    onSuccess() {
      key.value = '';
      toast('Channel saved.');
      onDone();
    },
  });
}

// Sets (or, with `weighted`, removes) the strategy of a group or a model.
function openRoutingForm(entry, onDone) {
  const scope = h('select', { id: 'routing-form-scope', disabled: !!entry },
    h('option', { value: 'model' }, 'Model — the requests for one model'),
    h('option', { value: 'group' }, 'Group — the requests of one group’s tokens'));
  scope.value = entry ? entry.scope : 'model';
  const names = h('datalist', { id: 'routing-form-names' });
  const name = h('input', { id: 'routing-form-name', type: 'text', required: true, autocomplete: 'off', list: 'routing-form-names',
    readonly: !!entry, value: entry ? entry.name : '' });
  const strategy = h('select', { id: 'routing-form-strategy' }, STRATEGIES.map(([value, label]) => h('option', { value }, label)));
  strategy.value = entry ? entry.strategy : 'least_busy';
  const suggest = async () => {
    try {
      const path = scope.value === 'group' ? '/api/groups' : '/api/prices';
      const rows = listOf(await api('GET', path));
      names.replaceChildren(...rows.map((r) => h('option', { value: r.name || r.model })));
    } catch {
      // suggestions only
    }
  };
  scope.addEventListener('change', suggest);
  suggest();
  return openDialog({
    id: 'routing-dialog',
    title: entry ? `Routing of ${entry.scope} “${entry.name}”` : 'Set a routing strategy',
    fields: [field('For', scope), field('Name', name, 'A group, or a priced model. A model’s strategy wins over its group’s.'), names,
      field('Strategy', strategy, 'How a request picks among the channels of the highest priority.')],
    submitLabel: 'Save strategy',
    submitId: 'routing-form-submit',
    cancelId: 'routing-form-cancel',
    errorId: 'routing-form-error',
    async onSubmit() {
      const target = name.value.trim();
      if (!target) throw new ValidationError('Enter the group or model.', 'routing-form-name');
      return api('PUT', `/api/routing/${scope.value}s/${seg(target)}`, { body: { strategy: strategy.value } });
    },
    onSuccess() {
      toast('Routing strategy saved.');
      onDone();
    },
  });
}

function routingPanel(notice) {
  const body = h('div', { id: 'routing-list' });
  const set = button('Set strategy', { class: 'btn', id: 'routing-create', onclick: () => openRoutingForm(null, load) });
  const el = h('section', { class: 'card', id: 'routing-section', 'aria-labelledby': 'routing-title' },
    h('div', { class: 'section-header' }, h('h2', { id: 'routing-title' }, 'Routing strategies'), set),
    h('p', { class: 'hint' }, 'Every group and model not listed uses weighted.'), body);

  async function load() {
    body.replaceChildren(loadingState('Loading routing…'));
    try {
      const routing = await api('GET', '/api/routing');
      const rows = [
        ...Object.entries(routing.models || {}).map(([name, strategy]) => ({ scope: 'model', name, strategy })),
        ...Object.entries(routing.groups || {}).map(([name, strategy]) => ({ scope: 'group', name, strategy })),
      ];
      if (rows.length === 0) {
        body.replaceChildren(emptyState('routing-empty', 'Every request is routed by weight (weighted).'));
        return;
      }
      body.replaceChildren(dataTable({
        id: 'routing-table',
        caption: 'Routing strategies',
        rows,
        rowProps: (r) => ({ 'data-scope': r.scope, 'data-name': r.name }),
        columns: [
          { label: 'For', test: 'routing-scope', key: 'scope' },
          { label: 'Name', test: 'routing-name', render: (r) => h('span', { class: 'strong' }, r.name) },
          { label: 'Strategy', test: 'routing-strategy', key: 'strategy' },
          {
            label: 'Actions',
            cls: 'actions-cell',
            render: (r) => h('div', { class: 'row-actions' },
              button('Change', { class: 'btn btn-small', 'data-action': 'edit', onclick: () => openRoutingForm(r, load) }),
              button('Reset', {
                class: 'btn btn-small btn-danger-ghost',
                'data-action': 'reset',
                onclick: () => confirmDialog({
                  title: 'Back to weighted?',
                  message: `Route the requests of ${r.scope} “${r.name}” by weight again?`,
                  confirmLabel: 'Reset to weighted',
                  danger: false,
                  onConfirm: () => api('PUT', `/api/routing/${r.scope}s/${seg(r.name)}`, { body: { strategy: 'weighted' } }),
                  onSuccess: () => { toast('Routing reset to weighted.'); load(); },
                }),
              })),
          },
        ],
      }));
    } catch (error) {
      notice.show(error.message);
      body.replaceChildren(errorState(error, load));
    }
  }

  load();
  return el;
}

export function channelsView(root) {
  const notice = banner('channels-notice');
  const list = h('div', { id: 'channels-list' });
  const create = button('Add channel', { class: 'btn btn-primary', id: 'channel-create', onclick: () => openChannelForm(null, load) });
  root.replaceChildren(pageHeader('Channels', create),
    h('p', { class: 'lead' }, 'Upstream provider accounts. Requests go to the highest-priority enabled channel that serves the model for the caller’s group, chosen among equals by the routing strategy (weighted by default).'),
    notice.el, list, routingPanel(notice));

  async function toggle(channel, btn) {
    btn.disabled = true;
    notice.clear();
    try {
      await api('PATCH', `/api/channels/${seg(channel.id)}`, { body: { enabled: !channel.enabled } });
      toast(`Channel “${channel.name}” ${channel.enabled ? 'disabled' : 'enabled'}.`);
      load();
    } catch (error) {
      btn.disabled = false;
      notice.show(error.message);
    }
  }

  // One minimal request to the channel (Docs/routing.md, "Testing a channel"); an answer restores a suspended one.
  async function test(channel, btn) {
    btn.disabled = true;
    notice.clear();
    try {
      const r = await api('POST', `/api/channels/${seg(channel.id)}/test`, { body: {} });
      if (r.ok) toast(`Channel “${channel.name}” answered ${r.status} in ${fmtInt(r.latency_ms)} ms (${fmtInt(r.credits)} credits, charged to nobody).`);
      else notice.show(`Channel “${channel.name}” failed its test: ${r.status ? `HTTP ${r.status}` : 'no answer'}${r.error ? ` — ${r.error}` : ''}`);
      load();
    } catch (error) {
      btn.disabled = false;
      notice.show(error.message);
    }
  }

  const begin = latestOnly();

  async function load() {
    const current = begin();
    list.replaceChildren(loadingState('Loading channels…'));
    try {
      const rows = listOf(await api('GET', '/api/channels'));
      if (!current()) return;
      if (rows.length === 0) {
        list.replaceChildren(emptyState('channels-empty', 'No channels yet — add your first upstream provider.'));
        return;
      }
      list.replaceChildren(dataTable({
        id: 'channels-table',
        caption: 'Channels',
        rows,
        rowProps: (c) => ({ 'data-channel-id': c.id }),
        columns: [
          { label: 'Name', test: 'channel-name', render: (c) => h('span', { class: 'strong' }, c.name) },
          { label: 'Type', test: 'channel-type', render: (c) => (TYPES[c.type] ? TYPES[c.type].label : c.type) },
          { label: 'Base URL', test: 'channel-base-url', cls: 'mono wrap', render: (c) => c.base_url || '—' },
          { label: 'Models', test: 'channel-models', cls: 'wrap', render: (c) => joinList(c.models) || '—' },
          // No groups = every group may use it (the relay's channel choice).
          { label: 'Groups', test: 'channel-groups', render: (c) => joinList(c.groups) || 'All groups' },
          { label: 'Priority', test: 'channel-priority', num: true, render: (c) => fmtInt(c.priority) },
          { label: 'Weight', test: 'channel-weight', num: true, render: (c) => fmtInt(c.weight) },
          { label: 'Status', test: 'channel-status', render: (c) => (c.enabled ? badge('enabled', 'ok') : badge('disabled', 'muted')) },
          { label: 'Health', test: 'channel-health', cls: 'wrap', render: healthCell },
          { label: 'Key', test: 'channel-key', render: (c) => (c.key_set ? badge('set', 'ok') : badge('missing', 'danger')) },
          {
            label: 'Actions',
            cls: 'actions-cell',
            render: (c) => h('div', { class: 'row-actions' },
              button('Edit', { class: 'btn btn-small', 'data-action': 'edit', 'data-test': 'channel-edit', onclick: () => openChannelForm(c, load) }),
              button('Test', { class: 'btn btn-small', 'data-action': 'test', 'data-test': 'channel-test', onclick: (event) => test(c, event.currentTarget) }),
              button(c.enabled ? 'Disable' : 'Enable', {
                class: 'btn btn-small',
                'data-action': c.enabled ? 'disable' : 'enable',
                'data-test': c.enabled ? 'channel-disable' : 'channel-enable',
                onclick: (event) => toggle(c, event.currentTarget),
              }),
              button('Delete', {
                class: 'btn btn-small btn-danger-ghost',
                'data-action': 'delete',
                'data-test': 'channel-delete',
                onclick: () => confirmDialog({
                  title: 'Delete channel?',
                  message: `Delete channel “${c.name}”? Requests will no longer be routed to it; its key is discarded.`,
                  confirmLabel: 'Delete channel',
                  onConfirm: () => api('DELETE', `/api/channels/${seg(c.id)}`),
                  onSuccess: () => { toast(`Channel “${c.name}” deleted.`); load(); },
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
  return { title: 'Channels' };
}
