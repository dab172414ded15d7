// Channels (#/channels, admins only): upstream provider accounts.
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
      const secret = key.value.trim();
      if (!editing) {
        if (!secret) throw new ValidationError('Enter the provider key.', 'channel-form-key');
        return api('POST', '/api/channels', { body: { ...body, key: secret } });
      }
      const patch = {};
      for (const k of ['name', 'type', 'base_url', 'priority', 'weight', 'enabled']) {
        if (body[k] !== channel[k]) patch[k] = body[k];
      }
      if (!sameList(body.models, channel.models)) patch.models = body.models;
      if (!sameList(body.groups, channel.groups)) patch.groups = body.groups;
      if (secret) patch.key = secret;
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

export function channelsView(root) {
  const notice = banner('channels-notice');
  const list = h('div', { id: 'channels-list' });
  const create = button('Add channel', { class: 'btn btn-primary', id: 'channel-create', onclick: () => openChannelForm(null, load) });
  root.replaceChildren(pageHeader('Channels', create),
    h('p', { class: 'lead' }, 'Upstream provider accounts. Requests go to the highest-priority enabled channel that serves the model for the caller’s group, weighted among equals.'),
    notice.el, list);

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
