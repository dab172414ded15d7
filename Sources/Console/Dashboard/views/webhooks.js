// Webhooks (#/webhooks, admins only): the alert endpoints (Docs/billing.md,
// "Spend alerts") — create (the signing secret shown once), the alerts each
// wants, the newest delivery attempts, delete. Users' low-balance thresholds
// are set on the Users page.

import { api, listOf, seg } from '../api.js';
import {
  h, fmtDate, badge, button, checkbox, loadingState, errorState, emptyState, toast, field, dataTable, openDialog,
  confirmDialog, showSecretDialog, pageHeader, ValidationError, latestOnly
} from '../ui.js';

// Every alert kind, with what it means (the API's names).
const ALERTS = [
  ['token.quota', "A token's used credits reach 80 % and 100 % of its quota"],
  ['token.budget', "A token's spend this period reaches 80 % and 100 % of its budget"],
  ['user.budget', "A user's spend this period reaches 80 % and 100 % of their budget"],
  ['user.low_balance', "A user's balance falls under their low-balance threshold"],
  ['channel.suspended', 'A channel is taken out of routing by its circuit breaker (once per outage)'],
];

function openCreateWebhook(onDone) {
  const url = h('input', { id: 'webhook-form-url', type: 'url', required: true, autocomplete: 'off', placeholder: 'https://ops.example/tally' });
  const boxes = ALERTS.map(([kind, hint]) => ({ kind, box: checkbox(`webhook-form-alert-${kind.replace('.', '-')}`, `${kind} — ${hint}`, true) }));
  return openDialog({
    id: 'webhook-dialog',
    title: 'Create webhook',
    fields: [
      field('URL', url, 'Tally POSTs each alert here as JSON, signed with X-Tally-Signature.'),
      h('fieldset', { class: 'fieldset' }, h('legend', null, 'Alerts'), ...boxes.map((b) => b.box.el)),
    ],
    submitLabel: 'Create webhook',
    submitId: 'webhook-form-submit',
    cancelId: 'webhook-form-cancel',
    errorId: 'webhook-form-error',
    async onSubmit() {
      const target = url.value.trim();
      if (!/^https?:\/\/\S+$/.test(target)) throw new ValidationError('Enter an http:// or https:// URL.', 'webhook-form-url');
      const alerts = boxes.filter((b) => b.box.input.checked).map((b) => b.kind);
      if (alerts.length === 0) throw new ValidationError('Choose at least one alert.', boxes[0].box.input.id);
      return api('POST', '/api/webhooks', { body: { url: target, alerts } });
    },
    onSuccess(hook) {
      showSecretDialog({
        title: 'Webhook created',
        label: 'Signing secret',
        secret: hook.secret,
        note: 'Check each delivery: X-Tally-Signature is sha256= and the hex HMAC-SHA256 of the body under this secret.',
      });
      onDone();
    },
  });
}

async function openDeliveries(hook) {
  const body = h('div', { id: 'webhook-deliveries' }, loadingState('Loading deliveries…'));
  openDialog({
    id: 'deliveries-dialog',
    title: `Deliveries to ${hook.url}`,
    fields: [body],
    submitLabel: 'Close',
    submitId: 'deliveries-close',
    cancelId: 'deliveries-cancel',
    errorId: 'deliveries-error',
    async onSubmit() { return null; },
    onSuccess() {},
  });
  try {
    const rows = listOf(await api('GET', `/api/webhooks/${seg(hook.id)}/deliveries`));
    body.replaceChildren(rows.length === 0
      ? emptyState('webhook-deliveries-empty', 'No attempts yet: an attempt is made when an alert it wants is raised.')
      : dataTable({
        id: 'webhook-deliveries-table',
        caption: 'Newest attempts first',
        rows,
        rowProps: (a) => ({ 'data-alert': a.alert }),
        columns: [
          { label: 'Alert', test: 'delivery-alert', key: 'alert' },
          { label: 'Try', test: 'delivery-attempt', num: true, key: 'attempt' },
          { label: 'Sent', test: 'delivery-time', render: (a) => fmtDate(a.time) },
          { label: 'Result', test: 'delivery-result', render: (a) => (a.error ? badge(a.error, 'warn') : badge(String(a.status), 'ok')) },
          { label: 'Next try', test: 'delivery-next', render: (a) => fmtDate(a.next_attempt_at) },
        ],
      }));
  } catch (error) {
    body.replaceChildren(errorState(error));
  }
}

export function webhooksView(root) {
  const list = h('div', { id: 'webhooks-list' });
  const create = button('Create webhook', { class: 'btn btn-primary', id: 'webhook-create', onclick: () => openCreateWebhook(load) });
  root.replaceChildren(pageHeader('Webhooks', create),
    h('p', { class: 'lead' }, 'Alerts are raised from the ledger and delivered to each endpoint in order, retried for up to 24 hours. '
      + 'Low-balance thresholds are set per user on the Users page.'),
    list);

  const begin = latestOnly();

  async function load() {
    const current = begin();
    list.replaceChildren(loadingState('Loading webhooks…'));
    try {
      const rows = listOf(await api('GET', '/api/webhooks'));
      if (!current()) return;
      if (rows.length === 0) {
        list.replaceChildren(emptyState('webhooks-empty', 'No webhooks yet — create one to be told of quotas, budgets, balances and suspended channels.'));
        return;
      }
      list.replaceChildren(dataTable({
        id: 'webhooks-table',
        caption: 'Webhooks',
        rows,
        rowProps: (w) => ({ 'data-webhook-id': w.id }),
        columns: [
          { label: 'URL', test: 'webhook-url', render: (w) => h('span', { class: 'strong' }, w.url) },
          { label: 'Alerts', test: 'webhook-alerts', render: (w) => (w.alerts || []).join(', ') },
          {
            label: 'Actions',
            cls: 'actions-cell',
            render: (w) => h('div', { class: 'row-actions' },
              button('Deliveries', { class: 'btn btn-small', 'data-action': 'deliveries', 'data-test': 'webhook-deliveries', onclick: () => openDeliveries(w) }),
              button('Delete', {
                class: 'btn btn-small btn-danger-ghost',
                'data-action': 'delete',
                'data-test': 'webhook-delete',
                onclick: () => confirmDialog({
                  title: 'Delete webhook?',
                  message: `Stop delivering alerts to ${w.url}? Its signing secret is deleted too.`,
                  confirmLabel: 'Delete webhook',
                  onConfirm: () => api('DELETE', `/api/webhooks/${seg(w.id)}`),
                  onSuccess: () => { toast('Webhook deleted.'); load(); },
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
  return { title: 'Webhooks' };
}
