// Tally dashboard: entry point, session handling and hash router.
//
// Plain ES modules, no build step, no third-party code. Served by the Tally
// server at `/` under `Content-Security-Policy: default-src 'self'`.
//
// ─── Stable element ids / attributes for browser tests (Selenium) ─────────────
//
// Shell
//   #boot                      "Loading Tally…" shown until the session is known
//   #login-screen              sign-in screen (hidden when signed in)
//   #login-form #login-username #login-password #login-submit #login-error
//   #password-screen           shown after signing in with a generated one-time password:
//     #password-form #password-current-field (hidden when the sign-in just gave it)
//     #password-current #password-new #password-confirm #password-submit #password-error #password-logout
//   #app-shell                 the signed-in layout
//   #nav-toggle                menu button (phones), aria-expanded
//   #nav #nav-overview (the landing page) #nav-tokens #nav-logs #nav-pricing
//   #nav-users #nav-groups #nav-prices #nav-channels #nav-webhooks #nav-ledger   (admins only; hidden for role user)
//   #current-user #current-balance #logout
//   #view                      the page content; its element has data-route="tokens|token|logs|…"
//   #toast                     success messages (role=status)
//   [data-test=loading] [data-test=error] [data-test=empty] [data-test=retry]
//   #forbidden                 shown on admin pages for role user
//
// Shared dialogs (created when opened, removed when closed; Escape closes)
//   #confirm-dialog #confirm-message #confirm-ok #confirm-cancel #confirm-error
//   #new-key-dialog #new-key-value (text = the key, shown once) #new-key-copy
//   #new-key-copied (copy result) #new-key-close   — also used for user access keys
//
// Overview (#/overview?period=24h|7d|30d&split=model|channel|user|token; user: admins)
//   #overview-period #overview-split #overview-spend #overview-chart (svg; rect.chart-bar[data-value])
//   #overview-split-table rows [data-key] cells [data-test=overview-name|overview-requests|
//     overview-errors|overview-credits] #overview-empty
//   #overview-outcomes #overview-requests #overview-errors #overview-reasons rows [data-reason]
//   #overview-latency #overview-timed #overview-p50 #overview-p99
//   #overview-top-tokens-table #overview-top-users-table (admins) rows [data-key]
//
// Tokens (#/tokens?name=&status=)
//   #token-create #tokens-filter-name #tokens-filter-status #tokens-filter-apply
//   #tokens-table  rows tr[data-token-id][data-status]; cells [data-test=token-name|
//     token-status|token-key-hint|token-used|token-remaining|token-expiry|token-last-used]
//   row buttons [data-action=edit|disable|enable|regenerate|topup|delete]
//     (same as data-test=token-edit|token-disable|…)
//   #tokens-empty #tokens-empty-create #tokens-notice (action errors)
//   #tokens-prev #tokens-next #tokens-page
//   #token-dialog #token-form-name #token-form-quota #token-form-quota-unlimited
//   #token-form-expires (datetime-local) #token-form-expires-never #token-form-models
//   #token-form-ips #token-form-group #token-form-submit #token-form-cancel #token-form-error
//   #regenerate-dialog #regenerate-grace #regenerate-submit #regenerate-cancel #regenerate-error
//   #topup-dialog #topup-amount #topup-submit #topup-cancel #topup-error
//
// Token detail (#/tokens/{id})
//   #token-detail[data-token-id] #token-detail-name #token-detail-status #token-detail-back
//   #token-detail-fields dd[data-field=status|key_hint|quota|used|remaining|expires_at|
//     models|ips|group|created_at|last_used_at|id]
//   #token-detail-edit #token-detail-disable|#token-detail-enable #token-detail-regenerate
//   #token-detail-topup #token-detail-delete #token-detail-notice #token-not-found
//   #usage-range #usage-metric #usage-total #usage-chart (svg; rect.chart-bar[data-day][data-value])
//   #usage-empty #usage-models-table rows [data-model]
//   #token-logs-table rows [data-request-id] #token-logs-empty #token-logs-all
//
// Logs (#/logs?token=&model=&user=&type=&request=&from=&to=)
//   #logs-filter-token #logs-filter-model #logs-filter-user (admins) #logs-filter-type #logs-filter-request
//   #logs-filter-from #logs-filter-to #logs-filter-apply #logs-filter-reset #logs-filter-error
//   #logs-table rows tr[data-request-id][data-type]; cells [data-test=log-time|log-token|
//     log-model|log-type|log-status|log-prompt|log-cached|log-completion|log-credits|
//     log-duration|log-stream|log-channel|log-routing|log-request-id]; for admins the request id is
//     a[data-test=log-events-link] to #/ledger?request=ID
//   #logs-empty #logs-prev #logs-next #logs-page #logs-export-csv #logs-export-jsonl
//
// Pricing (#/pricing)
//   #pricing-table rows [data-model] #pricing-empty
//
// Users (#/users, admin)
//   #user-create #users-table rows [data-user-id][data-username]
//   row buttons [data-action=credit|edit|enable|disable] #users-empty #users-notice
//   #user-dialog #user-form-username #user-form-password #user-form-role #user-form-group
//   #user-form-enabled (edit) #user-form-low-balance (edit: the low-balance alert threshold, empty = none)
//   cells [data-test=user-low-balance] #user-form-submit #user-form-cancel #user-form-error
//   #credit-dialog #credit-amount #credit-submit #credit-cancel #credit-error
//
// Groups (#/groups, admin)
//   #group-create #groups-table rows [data-group-name] row buttons [data-action=edit|delete]
//   #group-dialog #group-form-name #group-form-multiplier #group-form-models
//   #group-form-rpm #group-form-tpm #group-form-submit #group-form-cancel #group-form-error
//
// Prices (#/prices, admin)
//   #price-create #prices-table rows [data-model] row buttons [data-action=edit|delete]
//   #price-dialog #price-form-model #price-form-mode-token #price-form-mode-request
//   #price-form-input #price-form-cached #price-form-output #price-form-per-request
//   #price-form-submit #price-form-cancel #price-form-error
//
// Ledger (#/ledger?type=&actor=&token=&request=&from=&to=, admin)
//   #ledger-head #ledger-head-seq #ledger-head-hash #ledger-head-time
//   #ledger-counts rows [data-type] cells [data-test=count-type|count-events] #ledger-snapshots
//   #ledger-verify-now #ledger-verify-progress (progress) #ledger-verify-state
//   #ledger-verify-report[data-clean=true|false] #ledger-verify-result #ledger-verify-events
//   #ledger-verify-when #ledger-verify-findings #ledger-verify-never
//   #events-filter-type|actor|token|request|from|to #events-filter-apply #events-filter-error
//   #events-table rows tr[data-seq][data-type][data-request-id] cells [data-test=event-seq|
//     event-time|event-actor|event-type|event-summary|event-hash]; a[data-test=event-log-link]
//     to #/logs?request=ID #events-empty #events-prev #events-next
//
// Channels (#/channels, admin)
//   #channel-create #channels-table rows [data-channel-id]
//   row buttons [data-action=edit|enable|disable|delete] #channels-notice
//   #channel-dialog #channel-form-name #channel-form-type #channel-form-base-url
//   #channel-form-key (write-only) #channel-form-models #channel-form-groups
//   #channel-form-priority #channel-form-weight #channel-form-enabled
//   #channel-form-submit #channel-form-cancel #channel-form-error
//
// Webhooks (#/webhooks, admin)
//   #webhook-create #webhooks-table rows [data-webhook-id] cells [data-test=webhook-url|webhook-alerts]
//   row buttons [data-action=deliveries|delete] #webhooks-empty
//   #webhook-dialog #webhook-form-url #webhook-form-alert-{token-quota|token-budget|user-budget|
//     user-low_balance|channel-suspended} #webhook-form-submit #webhook-form-cancel #webhook-form-error
//   (the secret: the shared #new-key-dialog) #deliveries-dialog #webhook-deliveries-table rows [data-alert]
//   #webhook-deliveries-empty #deliveries-close
// ──────────────────────────────────────────────────────────────────────────────

import { api, onUnauthorized } from './api.js';
import { h, fmtInt, closeAllDialogs, emptyState, errorState } from './ui.js';
import { tokensView } from './views/tokens.js';
import { tokenDetailView } from './views/token-detail.js';
import { logsView } from './views/logs.js';
import { pricingView } from './views/pricing.js';
import { usersView } from './views/users.js';
import { groupsView } from './views/groups.js';
import { pricesView } from './views/prices.js';
import { channelsView } from './views/channels.js';
import { ledgerView } from './views/ledger.js';
import { webhooksView } from './views/webhooks.js';
import { overviewView } from './views/overview.js';

const DEFAULT_ROUTE = '#/overview';

const ROUTES = [
  { name: 'overview', pattern: /^\/overview$/, view: overviewView, nav: 'overview' },
  { name: 'tokens', pattern: /^\/tokens$/, view: tokensView, nav: 'tokens' },
  { name: 'token', pattern: /^\/tokens\/([^/]+)$/, view: tokenDetailView, nav: 'tokens' },
  { name: 'logs', pattern: /^\/logs$/, view: logsView, nav: 'logs' },
  { name: 'pricing', pattern: /^\/pricing$/, view: pricingView, nav: 'pricing' },
  { name: 'users', pattern: /^\/users$/, view: usersView, nav: 'users', admin: true },
  { name: 'groups', pattern: /^\/groups$/, view: groupsView, nav: 'groups', admin: true },
  { name: 'prices', pattern: /^\/prices$/, view: pricesView, nav: 'prices', admin: true },
  { name: 'channels', pattern: /^\/channels$/, view: channelsView, nav: 'channels', admin: true },
  { name: 'webhooks', pattern: /^\/webhooks$/, view: webhooksView, nav: 'webhooks', admin: true },
  { name: 'ledger', pattern: /^\/ledger$/, view: ledgerView, nav: 'ledger', admin: true },
];

const el = {
  boot: document.getElementById('boot'),
  loginScreen: document.getElementById('login-screen'),
  loginForm: document.getElementById('login-form'),
  loginUsername: document.getElementById('login-username'),
  loginPassword: document.getElementById('login-password'),
  loginSubmit: document.getElementById('login-submit'),
  loginError: document.getElementById('login-error'),
  passwordScreen: document.getElementById('password-screen'),
  passwordForm: document.getElementById('password-form'),
  passwordCurrentField: document.getElementById('password-current-field'),
  passwordCurrent: document.getElementById('password-current'),
  passwordNew: document.getElementById('password-new'),
  passwordConfirm: document.getElementById('password-confirm'),
  passwordSubmit: document.getElementById('password-submit'),
  passwordError: document.getElementById('password-error'),
  passwordLogout: document.getElementById('password-logout'),
  shell: document.getElementById('app-shell'),
  nav: document.getElementById('nav'),
  navToggle: document.getElementById('nav-toggle'),
  currentUser: document.getElementById('current-user'),
  currentBalance: document.getElementById('current-balance'),
  logout: document.getElementById('logout'),
  view: document.getElementById('view'),
};

// `oneTimePassword`: what the sign-in form just sent when the server answered
// that it must be replaced; kept only until the new password is set.
const session = { user: null, oneTimePassword: null };

/* ---------- session ---------- */

function isAdmin() {
  return !!session.user && session.user.role === 'admin';
}

function renderUser() {
  const user = session.user;
  if (!user) return;
  el.currentUser.textContent = `${user.username} · ${user.role}`;
  el.currentBalance.textContent = `${fmtInt(user.balance)} credits`;
  el.currentBalance.title = 'Your balance';
  for (const item of document.querySelectorAll('.nav-admin')) item.hidden = !isAdmin();
}

async function refreshUser() {
  try {
    const result = await api('GET', '/api/auth/me');
    if (result && result.user) {
      const roleChanged = session.user && session.user.role !== result.user.role;
      session.user = result.user;
      renderUser();
      if (roleChanged) route();
    }
  } catch {
    // a 401 already went to sign-in; anything else leaves the header as it was
  }
}

function showLogin(message) {
  closeAllDialogs();
  session.user = null;
  session.oneTimePassword = null;
  el.boot.hidden = true;
  el.shell.hidden = true;
  el.passwordScreen.hidden = true;
  el.view.replaceChildren(); // no data stays on the page after the session ends
  el.loginScreen.hidden = false;
  el.loginPassword.value = '';
  el.loginError.textContent = message || '';
  el.loginError.hidden = !message;
  el.loginSubmit.disabled = false;
  document.title = 'Sign in · Tally';
  el.loginUsername.focus();
}

/** A session opened with a generated password: nothing else until the person chooses their own. */
function showPasswordChange() {
  closeAllDialogs();
  el.boot.hidden = true;
  el.loginScreen.hidden = true;
  el.shell.hidden = true;
  el.view.replaceChildren();
  el.passwordScreen.hidden = false;
  el.passwordCurrentField.hidden = session.oneTimePassword !== null;
  for (const input of [el.passwordCurrent, el.passwordNew, el.passwordConfirm]) input.value = '';
  el.passwordError.hidden = true;
  document.title = 'Choose your password · Tally';
  (session.oneTimePassword !== null ? el.passwordNew : el.passwordCurrent).focus();
}

el.passwordForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const current = session.oneTimePassword !== null ? session.oneTimePassword : el.passwordCurrent.value;
  const next = el.passwordNew.value;
  const fail = (message, input) => {
    el.passwordError.textContent = message;
    el.passwordError.hidden = false;
    input.focus();
  };
  const bytes = new TextEncoder().encode(next).length;
  if (bytes < 8 || bytes > 72) return fail('Choose a password of 8 to 72 bytes.', el.passwordNew);
  if (next !== el.passwordConfirm.value) return fail('The two new passwords differ.', el.passwordConfirm);
  if (next === current) return fail('Choose a password different from the one-time password.', el.passwordNew);
  el.passwordSubmit.disabled = true;
  try {
    await api('POST', '/api/auth/password', { body: { current_password: current, new_password: next } });
    session.oneTimePassword = null;
    for (const input of [el.passwordCurrent, el.passwordNew, el.passwordConfirm]) input.value = '';
    const me = await api('GET', '/api/auth/me');
    session.user = me.user;
    showApp();
  } catch (error) {
    if (error.status !== 401) fail(error.message, el.passwordNew);
  } finally {
    el.passwordSubmit.disabled = false;
  }
});

el.passwordLogout.addEventListener('click', () => el.logout.click());

function showApp() {
  el.boot.hidden = true;
  el.loginScreen.hidden = true;
  el.passwordScreen.hidden = true;
  el.shell.hidden = false;
  renderUser();
  if (!location.hash || location.hash === '#' || location.hash === '#/') {
    history.replaceState(null, '', DEFAULT_ROUTE);
  }
  route();
}

onUnauthorized(() => {
  if (session.user) showLogin('Your session has ended. Please sign in again.');
});

el.loginForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const username = el.loginUsername.value.trim();
  const password = el.loginPassword.value;
  el.loginError.hidden = true;
  if (!username || !password) {
    el.loginError.textContent = 'Enter your username and password.';
    el.loginError.hidden = false;
    (username ? el.loginPassword : el.loginUsername).focus();
    return;
  }
  el.loginSubmit.disabled = true;
  el.loginSubmit.setAttribute('aria-busy', 'true');
  try {
    const result = await api('POST', '/api/auth/login', { body: { username, password }, redirectOn401: false });
    session.user = result && result.user ? result.user : null;
    el.loginPassword.value = '';
    if (result && result.password_change_required) {
      session.oneTimePassword = password;
      showPasswordChange();
      return;
    }
    if (!session.user) {
      const me = await api('GET', '/api/auth/me', { redirectOn401: false });
      session.user = me.user;
    }
    showApp();
  } catch (error) {
    let message = error.message;
    if (error.status === 401) message = error.message || 'Wrong username or password.';
    if (error.status === 429) {
      const wait = Number(error.retryAfter);
      message = `Too many sign-in attempts. Try again in ${Number.isFinite(wait) && wait > 0 ? `${wait} seconds` : 'a minute'}.`;
    }
    el.loginError.textContent = message;
    el.loginError.hidden = false;
    el.loginPassword.value = '';
    el.loginPassword.focus();
  } finally {
    el.loginSubmit.disabled = false;
    el.loginSubmit.removeAttribute('aria-busy');
  }
});

el.logout.addEventListener('click', async () => {
  el.logout.disabled = true;
  try {
    await api('POST', '/api/auth/logout', { redirectOn401: false });
  } catch {
    // signing out locally is what matters; the cookie is HttpOnly and the server ends it
  } finally {
    el.logout.disabled = false;
    showLogin();
  }
});

/* ---------- navigation ---------- */

function setNavOpen(open) {
  el.nav.classList.toggle('open', open);
  el.navToggle.setAttribute('aria-expanded', String(open));
}

el.navToggle.addEventListener('click', () => setNavOpen(!el.nav.classList.contains('open')));
el.nav.addEventListener('click', (event) => {
  if (event.target instanceof Element && event.target.closest('a')) setNavOpen(false);
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && el.nav.classList.contains('open') && !document.querySelector('dialog[open]')) {
    setNavOpen(false);
    el.navToggle.focus();
  }
});

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const qIndex = raw.indexOf('?');
  const path = qIndex >= 0 ? raw.slice(0, qIndex) : raw;
  const query = new URLSearchParams(qIndex >= 0 ? raw.slice(qIndex + 1) : '');
  return { path: path.replace(/\/+$/, '') || '/', query };
}

let renderCount = 0;

function route({ focus = false } = {}) {
  if (!session.user) return;
  closeAllDialogs();
  const { path, query } = parseHash();
  let match = null;
  let params = [];
  for (const candidate of ROUTES) {
    const m = candidate.pattern.exec(path);
    if (m) {
      match = candidate;
      params = m.slice(1).map((p) => {
        try {
          return decodeURIComponent(p);
        } catch {
          return p;
        }
      });
      break;
    }
  }
  if (!match) {
    location.replace(DEFAULT_ROUTE);
    return;
  }

  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === match.nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }

  // Each render gets a fresh container: late answers from a page already left
  // land in a detached element and never overwrite the current page.
  renderCount += 1;
  const container = h('div', { class: 'page', 'data-route': match.name, 'data-render': String(renderCount) });
  el.view.replaceChildren(container);
  el.view.dataset.route = match.name;

  const setTitle = (title) => {
    if (container.isConnected) document.title = `${title} · Tally`;
  };

  if (match.admin && !isAdmin()) {
    container.replaceChildren(emptyState('forbidden', 'This page is for administrators. Ask an admin if you need access.'));
    setTitle('Not allowed');
    return;
  }

  const ctx = {
    user: session.user,
    isAdmin: isAdmin(),
    params,
    query,
    navigate(hash) {
      location.hash = hash;
    },
    /** Rewrites the query part of the address without re-rendering the page. */
    setQuery(values) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(values)) if (v) qs.set(k, v);
      const text = qs.toString();
      history.replaceState(null, '', `#${path}${text ? `?${text}` : ''}`);
    },
    refreshUser,
    setTitle,
  };

  try {
    const info = match.view(container, ctx) || {};
    setTitle(info.title || 'Tally');
  } catch (error) {
    container.replaceChildren(errorState(error, () => route()));
  }

  if (focus) {
    const heading = container.querySelector('h1');
    (heading || el.view).focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
}

window.addEventListener('hashchange', () => {
  if (!session.user || !el.passwordScreen.hidden) return;
  route({ focus: true });
  refreshUser();
});

/* ---------- boot ---------- */

async function boot() {
  try {
    const result = await api('GET', '/api/auth/me', { redirectOn401: false });
    session.user = result.user;
    if (result.password_change_required) showPasswordChange();
    else showApp();
  } catch (error) {
    if (error.status === 401) {
      showLogin();
    } else {
      el.boot.hidden = true;
      el.loginScreen.hidden = true;
      const failure = errorState(error, () => location.reload());
      failure.id = 'boot-error';
      document.body.prepend(failure);
    }
  }
}

boot();
