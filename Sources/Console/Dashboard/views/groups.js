// Groups (#/groups, admins only): price multiplier, allowed models, RPM/TPM limits,
// and whether users may choose the group for their own tokens.

import { api, listOf, seg } from '../api.js';
import {
  h, fmtInt, button, checkbox, loadingState, errorState, emptyState, toast, field, dataTable, openDialog,
  confirmDialog, pageHeader, parseInteger, ValidationError, splitList, joinList, latestOnly
} from '../ui.js';

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MULTIPLIER_PATTERN = /^\d+(\.\d+)?$/;

function limit(value) {
  return !value ? 'No limit' : fmtInt(value);
}

function openGroupForm(group, existing, onDone) {
  const editing = !!group;
  const name = h('input', { id: 'group-form-name', type: 'text', required: true, autocomplete: 'off', readonly: editing, value: group ? group.name : '' });
  const multiplier = h('input', { id: 'group-form-multiplier', type: 'text', inputmode: 'decimal', required: true, autocomplete: 'off', value: group ? String(group.multiplier ?? '1') : '1' });
  const models = h('textarea', { id: 'group-form-models', rows: '2', autocomplete: 'off', placeholder: 'gpt-4o-mini, claude-sonnet-4', value: group ? joinList(group.models) : '' });
  const rpm = h('input', { id: 'group-form-rpm', type: 'text', inputmode: 'numeric', autocomplete: 'off', value: group ? String(group.rpm ?? 0) : '0' });
  const tpm = h('input', { id: 'group-form-tpm', type: 'text', inputmode: 'numeric', autocomplete: 'off', value: group ? String(group.tpm ?? 0) : '0' });
  const selectable = checkbox('group-form-selectable', 'Selectable: users may put their own tokens in this group', !!(group && group.selectable));
  return openDialog({
    id: 'group-dialog',
    title: editing ? `Edit group “${group.name}”` : 'Create group',
    fields: [
      field('Name', name, editing ? 'A group cannot be renamed.' : 'Letters, digits, dot, dash, underscore.'),
      field('Price multiplier', multiplier, 'A decimal, e.g. 1, 0.8 or 1.25. Prices are multiplied by it.'),
      field('Models', models, 'Comma separated. Empty = every priced model.'),
      field('Requests per minute (per token)', rpm, '0 = no limit.'),
      field('Tokens per minute (per token)', tpm, '0 = no limit.'),
      selectable.el,
    ],
    submitLabel: editing ? 'Save changes' : 'Create group',
    submitId: 'group-form-submit',
    cancelId: 'group-form-cancel',
    errorId: 'group-form-error',
    async onSubmit() {
      const groupName = name.value.trim();
      if (!NAME_PATTERN.test(groupName)) throw new ValidationError('Name: 1–64 letters, digits, dots, dashes or underscores.', 'group-form-name');
      const mult = multiplier.value.trim();
      if (!MULTIPLIER_PATTERN.test(mult)) throw new ValidationError('Multiplier must be a non-negative decimal such as 1 or 0.75.', 'group-form-multiplier');
      const body = {
        multiplier: mult,
        models: splitList(models.value),
        rpm: parseInteger(rpm.value, { label: 'RPM', min: 0, field: 'group-form-rpm' }) ?? 0,
        tpm: parseInteger(tpm.value, { label: 'TPM', min: 0, field: 'group-form-tpm' }) ?? 0,
        selectable: selectable.input.checked,
      };
      // PUT creates or replaces: "Create" must not silently overwrite an existing group.
      if (!editing && existing.has(groupName)) {
        throw new ValidationError(`A group named “${groupName}” already exists. Edit it instead.`, 'group-form-name');
      }
      return api('PUT', `/api/groups/${seg(groupName)}`, { body });
    },
    onSuccess() {
      toast('Group saved.');
      onDone();
    },
  });
}

export function groupsView(root) {
  const list = h('div', { id: 'groups-list' });
  let existing = new Set();
  const create = button('Create group', { class: 'btn btn-primary', id: 'group-create', onclick: () => openGroupForm(null, existing, load) });
  root.replaceChildren(pageHeader('Groups', create),
    h('p', { class: 'lead' }, 'Every user belongs to a group; its multiplier scales prices and its limits apply to each token.'),
    list);

  const begin = latestOnly();

  async function load() {
    const current = begin();
    list.replaceChildren(loadingState('Loading groups…'));
    try {
      const rows = listOf(await api('GET', '/api/groups'));
      if (!current()) return;
      existing = new Set(rows.map((g) => g.name));
      if (rows.length === 0) {
        list.replaceChildren(emptyState('groups-empty', 'No groups yet — create one.'));
        return;
      }
      list.replaceChildren(dataTable({
        id: 'groups-table',
        caption: 'Groups',
        rows,
        rowProps: (g) => ({ 'data-group-name': g.name }),
        columns: [
          { label: 'Name', test: 'group-name', render: (g) => h('span', { class: 'strong' }, g.name) },
          { label: 'Multiplier', test: 'group-multiplier', num: true, render: (g) => `× ${g.multiplier}` },
          { label: 'Models', test: 'group-models', render: (g) => (g.models && g.models.length ? joinList(g.models) : 'All priced models') },
          { label: 'RPM', test: 'group-rpm', num: true, render: (g) => limit(g.rpm) },
          { label: 'TPM', test: 'group-tpm', num: true, render: (g) => limit(g.tpm) },
          { label: 'Users may choose', test: 'group-selectable', render: (g) => (g.selectable ? 'Yes' : 'No') },
          {
            label: 'Actions',
            cls: 'actions-cell',
            render: (g) => h('div', { class: 'row-actions' },
              button('Edit', { class: 'btn btn-small', 'data-action': 'edit', 'data-test': 'group-edit', onclick: () => openGroupForm(g, existing, load) }),
              button('Delete', {
                class: 'btn btn-small btn-danger-ghost',
                'data-action': 'delete',
                'data-test': 'group-delete',
                onclick: () => confirmDialog({
                  title: 'Delete group?',
                  message: `Delete group “${g.name}”? Users and tokens still in it must be moved first.`,
                  confirmLabel: 'Delete group',
                  onConfirm: () => api('DELETE', `/api/groups/${seg(g.name)}`),
                  onSuccess: () => { toast(`Group “${g.name}” deleted.`); load(); },
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
  return { title: 'Groups' };
}
