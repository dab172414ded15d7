// DOM helpers, formatting, dialogs and shared widgets.
//
// Safety rule for the whole dashboard: strings from the API only ever reach
// the page as text nodes or attribute values (via `h`), never through
// innerHTML, so a token or model name cannot inject markup. The page also runs
// under `Content-Security-Policy: default-src 'self'`: no inline handlers, no
// style attributes; everything visual is a class in app.css.

const SVG_NS = 'http://www.w3.org/2000/svg';

function appendChildren(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false || child === true) continue;
    if (Array.isArray(child)) appendChildren(el, child);
    else if (child instanceof Node) el.append(child);
    else el.append(document.createTextNode(String(child)));
  }
}

function applyProps(el, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'value') continue; // set as a property once children (options) exist
    if (key === 'class') {
      const cls = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
      if (cls) el.setAttribute('class', cls);
    } else if (key === 'dataset') {
      for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) el.dataset[k] = String(v);
    } else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'innerHTML' || key === 'outerHTML') {
      throw new Error('h(): innerHTML is not allowed');
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

/** Creates an HTML element. Children: nodes, strings (as text), arrays, or null. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  applyProps(el, props);
  appendChildren(el, children);
  if (props && props.value !== undefined && props.value !== null) el.value = props.value;
  return el;
}

/** Creates an SVG element (for the usage chart). */
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else el.setAttribute(key, String(value));
  }
  appendChildren(el, children);
  return el;
}

/* ---------- formatting ---------- */

const intFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 4 });

/** Integer credits with thousands separators; `—` when absent. */
export function fmtInt(value) {
  if (value === null || value === undefined || value === '') return '—';
  const n = Number(value);
  return Number.isFinite(n) ? intFormat.format(n) : String(value);
}

/** A number that may have decimals (multipliers, effective prices). */
export function fmtNum(value) {
  if (value === null || value === undefined || value === '') return '—';
  const n = Number(value);
  return Number.isFinite(n) ? decFormat.format(n) : String(value);
}

/** Remaining credits: `∞` for unlimited (null). */
export function fmtRemaining(value) {
  return value === null || value === undefined ? '∞' : fmtInt(value);
}

/** A date-time in the person's local time zone. */
export function fmtDate(value, fallback = '—') {
  if (!value) return fallback;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined) return '—';
  const n = Number(ms);
  if (!Number.isFinite(n)) return String(ms);
  return n >= 10000 ? `${decFormat.format(n / 1000)} s` : `${intFormat.format(n)} ms`;
}

/** RFC 3339 in UTC without milliseconds: `2025-06-01T12:00:00Z`. */
export function toRFC3339(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function pad(n) {
  return String(n).padStart(2, '0');
}

/** An instant as the value of `<input type="datetime-local">` (local time). */
export function toLocalInput(value) {
  if (!value) return '';
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value (local time) as RFC 3339 UTC; '' → null; invalid → undefined. */
export function fromLocalInput(value) {
  if (!value) return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return undefined;
  return toRFC3339(d);
}

/**
 * Reads a From/To pair of datetime-local inputs for a filter form. On a bad
 * date or an inverted range it shows why in `errorEl` and returns null, so the
 * filter is not applied; otherwise `{ from, to }` as RFC 3339 strings ('' when empty).
 */
export function readTimeRange(fromInput, toInput, errorEl) {
  const from = fromLocalInput(fromInput.value);
  const to = fromLocalInput(toInput.value);
  let problem = null;
  if (from === undefined || to === undefined) problem = 'From and To must be valid dates and times.';
  else if (from && to && from > to) problem = 'From must be before To.';
  errorEl.textContent = problem || '';
  errorEl.hidden = !problem;
  return problem ? null : { from: from || '', to: to || '' };
}

/** Splits "a, b\nc" into ["a","b","c"]. */
export function splitList(text) {
  return String(text || '')
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);
}

export function joinList(list) {
  return Array.isArray(list) ? list.join(', ') : '';
}

export function sameList(a, b) {
  return JSON.stringify(a || []) === JSON.stringify(b || []);
}

/** A client-side validation failure, shown like a server error. */
export class ValidationError extends Error {
  constructor(message, field) {
    super(message);
    this.name = 'ValidationError';
    this.field = field || null;
  }
}

/**
 * Parses an integer typed by a person ("1,000,000" and "1 000" accepted).
 * Returns null for an empty string. Throws ValidationError otherwise.
 */
export function parseInteger(text, { label, min = 0, field, allowEmpty = true } = {}) {
  const raw = String(text ?? '').trim().replace(/[,_\s']/g, '');
  if (raw === '') {
    if (allowEmpty) return null;
    throw new ValidationError(`${label} is required.`, field);
  }
  if (!/^-?\d+$/.test(raw)) throw new ValidationError(`${label} must be a whole number.`, field);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new ValidationError(`${label} is too large.`, field);
  if (n < min) throw new ValidationError(`${label} must be at least ${fmtInt(min)}.`, field);
  return n;
}

/* ---------- small widgets ---------- */

export function badge(text, kind, test) {
  return h('span', { class: ['badge', `badge-${kind || 'neutral'}`], 'data-test': test }, text);
}

const STATUS_KIND = { enabled: 'ok', disabled: 'muted', expired: 'warn', exhausted: 'danger' };

export function statusBadge(status, test) {
  return badge(status || 'unknown', STATUS_KIND[status] || 'neutral', test);
}

export function button(label, props = {}) {
  return h('button', { type: 'button', class: 'btn', ...props }, label);
}

/** "Loading…" placeholder with role=status so screen readers hear it. */
export function loadingState(text = 'Loading…') {
  return h('p', { class: 'state state-loading', role: 'status', 'data-test': 'loading' },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

/** An error in place of content, with a Retry button. */
export function errorState(error, retry) {
  return h('div', { class: 'state state-error', role: 'alert', 'data-test': 'error' },
    h('p', null, error && error.message ? error.message : String(error)),
    retry ? button('Retry', { onclick: retry, 'data-test': 'retry' }) : null);
}

/** An empty list, saying what to do next. */
export function emptyState(id, text, action) {
  return h('div', { class: 'state state-empty', id, 'data-test': 'empty' }, h('p', null, text), action || null);
}

/** A page-level message strip for errors of row actions (enable, disable…). */
export function banner(id) {
  const el = h('div', { class: 'banner', id, role: 'alert', hidden: true });
  return {
    el,
    show(message) {
      el.replaceChildren(h('span', null, message),
        button('Dismiss', { class: 'btn btn-small btn-ghost', onclick: () => { el.hidden = true; } }));
      el.hidden = false;
    },
    clear() {
      el.hidden = true;
      el.replaceChildren();
    },
  };
}

let toastTimer = null;

/** A short success message in the polite live region. */
export function toast(message) {
  const region = document.getElementById('toast');
  if (!region) return;
  region.textContent = message;
  region.classList.add('visible');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => region.classList.remove('visible'), 4000);
}

/** Label + control + optional hint, wired with for= and aria-describedby. */
export function field(label, control, hint, extraClass) {
  const id = control.id;
  let hintEl = null;
  if (hint) {
    hintEl = h('p', { class: 'hint', id: `${id}-hint` }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
  }
  return h('div', { class: ['field', extraClass] }, h('label', { for: id }, label), control, hintEl);
}

/** A checkbox with its label on the right. */
export function checkbox(id, label, checked) {
  const input = h('input', { type: 'checkbox', id, checked: !!checked });
  return { input, el: h('div', { class: 'field field-check' }, input, h('label', { for: id }, label)) };
}

/**
 * A data table. Columns: {label, key?, render?(row), num?, test?, cls?}.
 * Wide tables scroll sideways in a focusable region; `stack` tables turn into
 * label/value cards on phones (app.css uses data-label).
 */
export function dataTable({ id, caption, columns, rows, rowProps, stack = true }) {
  const head = h('thead', null, h('tr', null, columns.map((c) =>
    h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label))));
  const body = h('tbody', null, rows.map((row) => h('tr', rowProps ? rowProps(row) : null,
    columns.map((c) => {
      const content = c.render ? c.render(row) : (c.num ? fmtInt(row[c.key]) : (row[c.key] ?? '—'));
      return h('td', { 'data-label': c.label, class: [c.num && 'num', c.cls], 'data-test': c.test }, content);
    }))));
  const table = h('table', { id, class: ['table', stack && 'table-stack'] },
    caption ? h('caption', { class: 'sr-only' }, caption) : null, head, body);
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': caption || 'Table', tabindex: '0' }, table);
}

/* ---------- dialogs ---------- */

const openDialogs = new Set();

/** Closes every open dialog (used when the session ends). */
export function closeAllDialogs() {
  for (const handle of [...openDialogs]) handle.close();
}

function focusFallback() {
  const main = document.getElementById('view');
  if (main) main.focus();
}

/**
 * Opens a modal form dialog. Escape and Cancel close it; focus goes to the
 * first field and comes back to the opener when it closes.
 *
 * onSubmit() may throw (ApiError or ValidationError): the message shows in the
 * dialog's error line and the dialog stays open. When it resolves, the dialog
 * closes and onSuccess(result) runs.
 */
export function openDialog({
  id, title, intro, fields = [], submitLabel = 'Save', submitId, cancelId, errorId,
  danger = false, wide = false, onSubmit, onSuccess, initialFocus,
}) {
  const opener = document.activeElement;
  const titleId = `${id}-title`;
  const errorEl = h('p', { class: 'form-error', id: errorId || `${id}-error`, role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], id: submitId || `${id}-submit` }, submitLabel);
  const cancel = h('button', { type: 'button', class: 'btn', id: cancelId || `${id}-cancel` }, 'Cancel');
  const form = h('form', { id: `${id}-form`, novalidate: true, class: 'dialog-form' },
    fields, errorEl, h('div', { class: 'dialog-actions' }, cancel, submit));
  const dialog = h('dialog', { id, class: ['dialog', wide && 'dialog-wide'], 'aria-labelledby': titleId },
    h('h2', { id: titleId, class: 'dialog-title' }, title),
    intro ? h('div', { class: 'dialog-intro' }, intro) : null,
    form);

  let done = false;
  let busy = false;
  const handle = {
    dialog,
    form,
    setError(message) {
      errorEl.textContent = message || '';
      errorEl.hidden = !message;
    },
    close() {
      if (done) return;
      done = true;
      openDialogs.delete(handle);
      if (dialog.open) dialog.close();
      dialog.remove();
      if (opener && opener instanceof HTMLElement && opener.isConnected && opener !== document.body) opener.focus();
      else focusFallback();
    },
  };

  dialog.addEventListener('close', () => handle.close());
  cancel.addEventListener('click', () => handle.close());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    handle.setError('');
    busy = true;
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    let result;
    try {
      result = await onSubmit(handle);
    } catch (error) {
      busy = false;
      submit.disabled = false;
      submit.removeAttribute('aria-busy');
      if (done) return;
      handle.setError(error && error.message ? error.message : String(error));
      const bad = error && error.field ? document.getElementById(error.field) : null;
      if (bad) {
        bad.setAttribute('aria-invalid', 'true');
        bad.focus();
      }
      return;
    }
    busy = false;
    handle.close();
    if (onSuccess) onSuccess(result);
  });
  form.addEventListener('input', (event) => {
    if (event.target instanceof HTMLElement) event.target.removeAttribute('aria-invalid');
  });

  openDialogs.add(handle);
  document.body.append(dialog);
  dialog.showModal();
  const first = initialFocus ? document.getElementById(initialFocus)
    : form.querySelector('input:not([type=hidden]):not([disabled]):not([readonly]), select, textarea');
  (first || submit).focus();
  return handle;
}

/** Asks before something that cannot be undone. */
export function confirmDialog({ title, message, confirmLabel = 'Delete', danger = true, onConfirm, onSuccess }) {
  return openDialog({
    id: 'confirm-dialog',
    title,
    intro: h('p', { id: 'confirm-message' }, message),
    submitLabel: confirmLabel,
    submitId: 'confirm-ok',
    cancelId: 'confirm-cancel',
    errorId: 'confirm-error',
    danger,
    onSubmit: onConfirm,
    onSuccess,
    initialFocus: 'confirm-cancel',
  });
}

/** Copies text: the async Clipboard API where allowed, else a hidden textarea + execCommand. */
export async function copyText(text, container) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // fall through to the textarea fallback
    }
  }
  // The textarea goes inside the open dialog: outside it the page is inert and cannot be selected.
  const area = h('textarea', { class: 'clipboard-helper', readonly: true, 'aria-hidden': 'true', tabindex: '-1' });
  area.value = text;
  (container || document.body).append(area);
  area.select();
  area.setSelectionRange(0, text.length);
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/**
 * Shows a secret (token key, access key) exactly once, with a copy button and
 * a plain warning that it will not be shown again.
 */
export function showSecretDialog({ title, label, secret, note }) {
  const opener = document.activeElement;
  const titleId = 'new-key-title';
  const value = h('code', { id: 'new-key-value', class: 'secret', 'data-test': 'new-key-value', tabindex: '0' }, secret);
  const status = h('p', { id: 'new-key-copied', class: 'hint', role: 'status', 'aria-live': 'polite' });
  const copy = h('button', { type: 'button', class: 'btn btn-primary', id: 'new-key-copy' }, 'Copy');
  const closeBtn = h('button', { type: 'button', class: 'btn', id: 'new-key-close' }, 'I have saved it — close');
  const dialog = h('dialog', { id: 'new-key-dialog', class: 'dialog', 'aria-labelledby': titleId, 'aria-describedby': 'new-key-warning' },
    h('h2', { id: titleId, class: 'dialog-title' }, title),
    h('p', { class: 'warning', id: 'new-key-warning' },
      h('strong', null, 'Copy it now: you will not see this again. '),
      'Tally keeps only a hash of it; if you lose it, regenerate a new one.'),
    h('div', { class: 'field' }, h('span', { class: 'label', id: 'new-key-label' }, label),
      h('div', { class: 'secret-row', role: 'group', 'aria-labelledby': 'new-key-label' }, value, copy)),
    status,
    note ? h('p', { class: 'hint' }, note) : null,
    h('div', { class: 'dialog-actions' }, closeBtn));

  let done = false;
  const handle = {
    close() {
      if (done) return;
      done = true;
      openDialogs.delete(handle);
      if (dialog.open) dialog.close();
      dialog.remove();
      if (opener && opener instanceof HTMLElement && opener.isConnected && opener !== document.body) opener.focus();
      else focusFallback();
    },
  };
  copy.addEventListener('click', async () => {
    const ok = await copyText(secret, dialog);
    status.textContent = ok ? 'Copied to the clipboard.' : 'Could not copy automatically: select the key and copy it by hand.';
    if (ok) copy.textContent = 'Copied';
    else selectText(value);
  });
  closeBtn.addEventListener('click', () => handle.close());
  dialog.addEventListener('close', () => handle.close());
  openDialogs.add(handle);
  document.body.append(dialog);
  dialog.showModal();
  copy.focus();
  return handle;
}

function selectText(el) {
  const range = document.createRange();
  range.selectNodeContents(el);
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
}

/* ---------- request ordering ---------- */

/**
 * Guards a reloading view against answers arriving out of order: each call
 * of the returned `begin()` makes a ticket; only the newest ticket is current,
 * so a slow, older list response never overwrites a newer one.
 */
export function latestOnly() {
  let newest = 0;
  return () => {
    newest += 1;
    const ticket = newest;
    return () => ticket === newest;
  };
}

/* ---------- cursor paging ---------- */

/**
 * Next/Previous paging over `next_cursor`: keeps the cursors of the pages
 * already seen so Previous goes back without the server's help.
 */
export class CursorPager {
  constructor(prefix, onChange) {
    this.prefix = prefix;
    this.onChange = onChange;
    this.cursor = null;
    this.previous = [];
    this.nextCursor = null;
  }

  reset() {
    this.cursor = null;
    this.previous = [];
    this.nextCursor = null;
  }

  /** Controls for the page just loaded. */
  render(nextCursor) {
    this.nextCursor = nextCursor || null;
    const prev = button('← Previous', {
      id: `${this.prefix}-prev`,
      disabled: this.previous.length === 0,
      onclick: () => {
        this.cursor = this.previous.pop() ?? null;
        this.onChange();
      },
    });
    const next = button('Next →', {
      id: `${this.prefix}-next`,
      disabled: !this.nextCursor,
      onclick: () => {
        this.previous.push(this.cursor);
        this.cursor = this.nextCursor;
        this.onChange();
      },
    });
    const page = h('span', { class: 'pager-page', id: `${this.prefix}-page` }, `Page ${this.previous.length + 1}`);
    return h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, page, next);
  }
}

/** The h1 row of a page, with optional actions on the right. */
export function pageHeader(title, ...actions) {
  return h('div', { class: 'page-header' }, h('h1', { tabindex: '-1', class: 'page-title' }, title),
    actions.length ? h('div', { class: 'page-actions' }, actions) : null);
}
