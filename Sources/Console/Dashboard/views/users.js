// Users (#/users, admins only): balances, create (access key shown once),
// credit, enable/disable, change role and group, reset password.

import { api, listOf, seg } from '../api.js';
import {
  h, fmtInt, fmtDate, badge, button, loadingState, errorState, emptyState, banner, toast, field,
  checkbox, dataTable, openDialog, showSecretDialog, pageHeader, parseInteger, ValidationError,
  CursorPager, latestOnly
} from '../ui.js';
import { budgetFields, budgetSummary } from './budget.js';

const PAGE_SIZE = 50;

async function groupOptions(datalist) {
  try {
    const groups = listOf(await api('GET', '/api/groups'));
    datalist.replaceChildren(...groups.map((g) => h('option', { value: g.name })));
  } catch {
    // suggestions only
  }
}

function roleSelect(id, value) {
  return h('select', { id, value: value || 'user' },
    h('option', { value: 'user' }, 'user — manages own tokens'),
    h('option', { value: 'admin' }, 'admin — manages everything'));
}

function openCreateUser(onDone) {
  const username = h('input', { id: 'user-form-username', type: 'text', required: true, autocomplete: 'off', maxlength: '64' });
  const password = h('input', { id: 'user-form-password', type: 'password', required: true, autocomplete: 'new-password' });
  const role = roleSelect('user-form-role', 'user');
  const groupList = h('datalist', { id: 'user-form-group-list' });
  const group = h('input', { id: 'user-form-group', type: 'text', autocomplete: 'off', list: 'user-form-group-list', value: 'default' });
  groupOptions(groupList);
  return openDialog({
    id: 'user-dialog',
    title: 'Create user',
    fields: [field('Username', username), field('Password', password, 'For signing in to this dashboard.'),
      field('Role', role), field('Group', group, 'Sets prices (multiplier), models and rate limits.'), groupList],
    submitLabel: 'Create user',
    submitId: 'user-form-submit',
    cancelId: 'user-form-cancel',
    errorId: 'user-form-error',
    async onSubmit() {
      const body = { username: username.value.trim(), password: password.value, role: role.value, group: group.value.trim() };
      if (!body.username) throw new ValidationError('Enter a username.', 'user-form-username');
      if (!body.password) throw new ValidationError('Enter a password.', 'user-form-password');
      if (!body.group) throw new ValidationError('Enter a group.', 'user-form-group');
      return api('POST', '/api/users', { body });
    },
    onSuccess(user) {
      if (user && user.access_key) {
        showSecretDialog({
          title: `User “${user.username}” created`,
          label: 'Access key',
          secret: user.access_key,
          note: 'The user can call the management API with "Authorization: Bearer <access key>", or sign in here with the password.',
        });
      } else {
        toast('User created.');
      }
      onDone();
    },
  });
}

function openEditUser(user, onDone) {
  const role = roleSelect('user-form-role', user.role);
  const groupList = h('datalist', { id: 'user-form-group-list' });
  const group = h('input', { id: 'user-form-group', type: 'text', autocomplete: 'off', list: 'user-form-group-list', value: user.group || '' });
  const enabled = checkbox('user-form-enabled', 'Enabled (a disabled user cannot sign in and their tokens stop working)', user.enabled !== false);
  const password = h('input', { id: 'user-form-password', type: 'password', autocomplete: 'new-password' });
  const budget = budgetFields('user-form', user.budget);
  const lowBalance = h('input', {
    id: 'user-form-low-balance', type: 'text', inputmode: 'numeric', autocomplete: 'off', placeholder: 'none',
    value: user.low_balance == null ? '' : String(user.low_balance),
  });
  groupOptions(groupList);
  return openDialog({
    id: 'user-dialog',
    title: `Edit user “${user.username}”`,
    fields: [field('Role', role), field('Group', group), groupList, enabled.el, budget.el,
      field('Low-balance alert (credits)', lowBalance, 'The user.low_balance alert fires when the balance falls under this. Empty = no alert.'),
      field('New password', password, 'Leave empty to keep the current password.')],
    submitLabel: 'Save changes',
    submitId: 'user-form-submit',
    cancelId: 'user-form-cancel',
    errorId: 'user-form-error',
    async onSubmit() {
      const patch = {};
      if (role.value !== user.role) patch.role = role.value;
      const g = group.value.trim();
      if (!g) throw new ValidationError('Enter a group.', 'user-form-group');
      if (g !== user.group) patch.group = g;
      if (enabled.input.checked !== (user.enabled !== false)) patch.enabled = enabled.input.checked;
      if (password.value) patch.password = password.value;
      const nextBudget = budget.read();
      if (budget.changed(nextBudget)) patch.budget = nextBudget;
      const threshold = parseInteger(lowBalance.value, { label: 'Low-balance alert', min: 1, field: 'user-form-low-balance' });
      // Checked before anything is sent, so a bad threshold changes nothing.
      let saved = user;
      if (Object.keys(patch).length > 0) saved = await api('PATCH', `/api/users/${seg(user.id)}`, { body: patch });
      if (threshold !== (user.low_balance ?? null)) {
        await api('PUT', `/api/users/${seg(user.id)}/low_balance`, { body: { threshold } });
      }
      return saved;
    },
    onSuccess() {
      toast('User saved.');
      onDone();
    },
  });
}

function openCredit(user, onDone) {
  const amount = h('input', { id: 'credit-amount', type: 'text', inputmode: 'numeric', required: true, autocomplete: 'off', placeholder: 'e.g. 1,000,000' });
  return openDialog({
    id: 'credit-dialog',
    title: `Credit “${user.username}”`,
    intro: h('p', null, `Current balance: ${fmtInt(user.balance)} credits.`),
    fields: [field('Credits to add', amount)],
    submitLabel: 'Add credits',
    submitId: 'credit-submit',
    cancelId: 'credit-cancel',
    errorId: 'credit-error',
    async onSubmit() {
      const value = parseInteger(amount.value, { label: 'Amount', min: 1, field: 'credit-amount', allowEmpty: false });
      return api('POST', `/api/users/${seg(user.id)}/credit`, { body: { amount: value } });
    },
    onSuccess(updated) {
      toast(`Balance of ${user.username} is now ${fmtInt(updated && updated.balance)} credits.`);
      onDone();
    },
  });
}

export function usersView(root, ctx) {
  const notice = banner('users-notice');
  const list = h('div', { id: 'users-list' });
  const pager = new CursorPager('users', () => load());
  const reload = () => { load(); ctx.refreshUser(); };
  const create = button('Create user', { class: 'btn btn-primary', id: 'user-create', onclick: () => openCreateUser(reload) });
  root.replaceChildren(pageHeader('Users', create), notice.el, list);

  async function toggle(user, btn) {
    btn.disabled = true;
    notice.clear();
    try {
      await api('PATCH', `/api/users/${seg(user.id)}`, { body: { enabled: user.enabled === false } });
      toast(`User ${user.username} ${user.enabled === false ? 'enabled' : 'disabled'}.`);
      load();
    } catch (error) {
      btn.disabled = false;
      notice.show(error.message);
    }
  }

  const begin = latestOnly();

  async function load() {
    const current = begin();
    list.replaceChildren(loadingState('Loading users…'));
    try {
      const result = await api('GET', '/api/users', { query: { cursor: pager.cursor, limit: PAGE_SIZE } });
      if (!current()) return;
      const rows = listOf(result);
      if (rows.length === 0) {
        list.replaceChildren(emptyState('users-empty', 'No users yet — create one.'), pager.cursor ? pager.render(null) : null);
        return;
      }
      list.replaceChildren(dataTable({
        id: 'users-table',
        caption: 'Users',
        rows,
        rowProps: (u) => ({ 'data-user-id': u.id, 'data-username': u.username }),
        columns: [
          { label: 'Username', test: 'user-username', render: (u) => h('span', { class: 'strong' }, u.username, u.id === ctx.user.id ? ' (you)' : '') },
          { label: 'Role', test: 'user-role', render: (u) => badge(u.role, u.role === 'admin' ? 'info' : 'neutral') },
          { label: 'Group', test: 'user-group', render: (u) => u.group || '—' },
          { label: 'Balance', test: 'user-balance', num: true, key: 'balance' },
          { label: 'Budget', test: 'user-budget', render: (u) => (u.budget ? budgetSummary(u.budget) : '—') },
          { label: 'Low-balance alert', test: 'user-low-balance', num: true, render: (u) => (u.low_balance == null ? '—' : fmtInt(u.low_balance)) },
          { label: 'Status', test: 'user-status', render: (u) => (u.enabled === false ? badge('disabled', 'muted') : badge('enabled', 'ok')) },
          { label: 'Created', test: 'user-created', render: (u) => fmtDate(u.created_at) },
          {
            label: 'Actions',
            cls: 'actions-cell',
            render: (u) => h('div', { class: 'row-actions' },
              button('Credit', { class: 'btn btn-small', 'data-action': 'credit', 'data-test': 'user-credit', onclick: () => openCredit(u, reload) }),
              button('Edit', { class: 'btn btn-small', 'data-action': 'edit', 'data-test': 'user-edit', onclick: () => openEditUser(u, reload) }),
              button(u.enabled === false ? 'Enable' : 'Disable', {
                class: 'btn btn-small',
                'data-action': u.enabled === false ? 'enable' : 'disable',
                'data-test': u.enabled === false ? 'user-enable' : 'user-disable',
                onclick: (event) => toggle(u, event.currentTarget),
              })),
          },
        ],
      }), pager.render(result && result.next_cursor));
    } catch (error) {
      if (!current()) return;
      list.replaceChildren(errorState(error, () => load()));
    }
  }

  load();
  return { title: 'Users' };
}
