// The periodic budget fields shared by the token and user forms: amount and
// period, with the current period's spend and reset time shown beside them.

import { h, fmtInt, fmtDate, field, parseInteger, ValidationError } from '../ui.js';

const PERIODS = ['day', 'week', 'month'];

/** "120 of 1,000 spent this week (30 held), resets 7 Dec 2026, 01:00". */
export function budgetSummary(budget) {
  if (!budget) return 'No periodic budget.';
  return `${fmtInt(budget.spent)} of ${fmtInt(budget.amount)} credits spent this ${budget.period}`
    + (budget.reserved ? ` (${fmtInt(budget.reserved)} held)` : '')
    + `, ${fmtInt(budget.remaining)} left; resets ${fmtDate(budget.resets_at)}.`;
}

/**
 * The fieldset for `budget` (null = none) with ids under `prefix`.
 * read() gives null (no budget) or {amount, period}; changed(body) tells a PATCH whether to send it.
 */
export function budgetFields(prefix, budget) {
  const amount = h('input', {
    id: `${prefix}-budget-amount`, type: 'text', inputmode: 'numeric', autocomplete: 'off',
    placeholder: 'Empty = no budget', value: budget ? String(budget.amount) : '',
  });
  const period = h('select', { id: `${prefix}-budget-period`, value: budget ? budget.period : 'month' },
    PERIODS.map((p) => h('option', { value: p }, p)));
  const status = h('p', { class: 'hint', id: `${prefix}-budget-status`, 'data-test': 'budget-status' }, budgetSummary(budget));
  const el = h('fieldset', { class: 'fieldset' }, h('legend', null, 'Periodic budget (credits, UTC)'),
    h('div', { class: 'field-row' }, field('Amount per period', amount), field('Period', period, 'Weeks start on Monday.')),
    status);

  function read() {
    const value = parseInteger(amount.value, { label: 'Budget', min: 1, field: amount.id });
    if (value === null) return null;
    if (!PERIODS.includes(period.value)) throw new ValidationError('Pick a day, week or month.', period.id);
    return { amount: value, period: period.value };
  }

  function changed(next) {
    if (!budget || !next) return (budget || null) !== next;
    return budget.amount !== next.amount || budget.period !== next.period;
  }

  return { el, read, changed };
}
