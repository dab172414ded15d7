#!/usr/bin/env python3
"""Browser test of the Tally dashboard against the real server.

Drives headless Chromium (Debian's `chromium` + `chromium-driver`) with
Selenium through the pages a person uses: sign in with the demo's printed
one-time password and choose a new one, create a token and see its
key once, call the relay with that key, find the request in Logs, read the
token's detail page, disable the token and see the relay refuse it, visit the
admin pages, check phone width, and sign in as a plain user who must not see
the admin's pages or token.

Run by tools/dashboard-e2e/run.sh, which starts `tally serve --demo` and sets:
  TALLY_URL          http://127.0.0.1:PORT
  TALLY_ADMIN_KEY    the admin's access key (TALLY_ADMIN_KEY of the server)
  TALLY_DEMO_PASSWORD  the admin's one-time password the demo printed
  SCREENSHOT_DIR     where the PNGs go (run.sh --update-screenshots: Docs/screenshots)

Prints one line per failed check and, last, exactly `N passed, M failed`.
Exits 1 when anything failed.
"""

import base64
import json
import os
import re
import secrets
import sys
import time
import traceback
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ.get('TALLY_URL', 'http://127.0.0.1:8080').rstrip('/')
ADMIN_KEY = os.environ['TALLY_ADMIN_KEY']
DEMO_PASSWORD = os.environ.get('TALLY_DEMO_PASSWORD', '')
SHOTS = os.environ.get('SCREENSHOT_DIR', os.path.join(os.getcwd(), '.build', 'dashboard-e2e', 'screenshots'))
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
CHROMEDRIVER = os.environ.get('CHROMEDRIVER', '/usr/bin/chromedriver')
WAIT = float(os.environ.get('E2E_WAIT', '10'))
VERBOSE = os.environ.get('E2E_VERBOSE') == '1'

ADMIN_PASSWORD = 'e2e-admin-' + secrets.token_hex(6)
USER_NAME = 'e2e-user'
USER_PASSWORD = 'e2e-user-' + secrets.token_hex(6)
CHANNEL_SECRET = 'sk-upstream-e2e-' + secrets.token_hex(12)
DEMO_CHANNEL_SECRET = 'mock-key'  # what `tally serve --demo` stores for its channels

passed = 0
failed = 0


def check(name, ok, detail=''):
    """One check: counted, and printed only when it fails."""
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f'FAIL {name}' + (f': {detail}' if detail else ''), flush=True)
    return ok


# ---------- the API, outside the browser ----------

def http(method, path, key=None, body=None, headers=None):
    """(status, headers, parsed JSON or text) of one request; never raises on HTTP errors."""
    hdrs = dict(headers or {})
    data = None
    if key:
        hdrs['Authorization'] = f'Bearer {key}'
    if body is not None:
        data = json.dumps(body).encode()
        hdrs['Content-Type'] = 'application/json'
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, rh, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        status, rh, raw = err.code, err.headers, err.read()
    text = raw.decode('utf-8', 'replace')
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return status, rh, parsed


def api(method, path, key=ADMIN_KEY, body=None, expect=(200, 201, 204)):
    status, _, parsed = http(method, path, key=key, body=body)
    if status not in expect:
        raise RuntimeError(f'{method} {path} answered {status}: {parsed}')
    return parsed


def relay(key, model='mock-gpt'):
    """POST /v1/chat/completions with a token: (status, x-request-id, body)."""
    status, headers, body = http('POST', '/v1/chat/completions', key=key, body={
        'model': model, 'messages': [{'role': 'user', 'content': 'Hello from the dashboard test'}]})
    return status, headers.get('x-request-id'), body


# ---------- the browser ----------

def make_driver():
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ['--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--window-size=1280,900',
                '--lang=en-US', '--hide-scrollbars', '--force-color-profile=srgb', '--disable-gpu']:
        opts.add_argument(arg)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    return webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=opts)


d = None
W = None


def q(css, timeout=None):
    return WebDriverWait(d, timeout or WAIT, ignored_exceptions=[StaleElementReferenceException]).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def vis(css, timeout=None):
    return WebDriverWait(d, timeout or WAIT, ignored_exceptions=[StaleElementReferenceException]).until(
        EC.visibility_of_element_located((By.CSS_SELECTOR, css)))


def gone(css):
    W.until(EC.invisibility_of_element_located((By.CSS_SELECTOR, css)))


def click(css):
    W.until(EC.element_to_be_clickable((By.CSS_SELECTOR, css))).click()


def typ(css, text):
    el = vis(css)
    el.clear()
    el.send_keys(text)


def until(fn, timeout=None):
    """fn() truthy within the timeout (exceptions count as not yet); returns its value or None."""
    try:
        return WebDriverWait(d, timeout or WAIT, ignored_exceptions=[StaleElementReferenceException]).until(
            lambda _: fn())
    except TimeoutException:
        return None


def displayed(element_id):
    els = d.find_elements(By.ID, element_id)
    return bool(els) and els[0].is_displayed()


def go(route):
    """Navigates inside the app by hash (a hashchange, as a click on a link would)."""
    d.execute_script('location.hash = arguments[0]', route)


def settle():
    """Waits until the current view shows no loading placeholder."""
    until(lambda: not d.find_elements(By.CSS_SELECTOR, '#view [data-test=loading]'))


def shot(name, full=True):
    """A PNG of the page: the whole scrolling page (at most 3000 CSS px tall) when
    `full`, else the viewport (for modal dialogs, which sit in the viewport)."""
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, f'{name}.png')
    # No focus ring on whatever was clicked last, unless a dialog is open (its focus is part of it).
    d.execute_script('if (!document.querySelector("dialog[open]") && document.activeElement) document.activeElement.blur();'
                     'document.getElementById("toast").textContent = ""')  # no stale "saved" toast
    if not full:
        d.save_screenshot(path)
        return
    width, height = d.execute_script(
        'return [document.documentElement.clientWidth, Math.max(document.documentElement.scrollHeight, window.innerHeight)]')
    data = d.execute_cdp_cmd('Page.captureScreenshot', {
        'format': 'png', 'captureBeyondViewport': True,
        'clip': {'x': 0, 'y': 0, 'width': width, 'height': min(height, 3000), 'scale': 1}})['data']
    with open(path, 'wb') as f:
        f.write(base64.b64decode(data))


def console_errors(expected=()):
    """SEVERE browser console entries since the last call, minus favicon 404s and
    the `expected` regexes (network errors a step provokes on purpose)."""
    bad = []
    for entry in d.get_log('browser'):
        if entry.get('level') != 'SEVERE':
            continue
        msg = entry.get('message', '')
        if 'favicon' in msg:
            continue
        if any(re.search(p, msg) for p in expected):
            if VERBOSE:
                print(f'(expected console entry: {msg})')
            continue
        bad.append(msg)
    return bad


def check_console(step, expected=()):
    bad = console_errors(expected)
    check(f'{step}: no browser console errors', not bad, ' | '.join(bad))


def sign_in(username, password):
    typ('#login-username', username)
    typ('#login-password', password)
    click('#login-submit')


def page_has_text(secret):
    """Whether `secret` is anywhere in the DOM, a form field's value, web storage, the address or the title."""
    html = d.page_source
    values = d.execute_script(
        'return [...document.querySelectorAll("input, textarea")].map(e => e.value).join("\\n")'
        ' + JSON.stringify(Object.assign({}, localStorage)) + JSON.stringify(Object.assign({}, sessionStorage))')
    return secret in html or secret in values or secret in d.current_url or secret in d.title


def body_overflow():
    """(scrollWidth of the document and body, viewport width)."""
    return d.execute_script(
        'return [Math.max(document.documentElement.scrollWidth, document.body.scrollWidth), window.innerWidth]')


# ---------- the scenario ----------

def run():
    global d, W
    # Setup through the API: a second, plain user with a token of their own. The
    # admin's dashboard password is the demo's printed one-time password.
    me = api('GET', '/api/auth/me')['user']
    check('admin access key works', me['role'] == 'admin', me)
    check('the demo printed a one-time password', len(DEMO_PASSWORD) == 20, DEMO_PASSWORD)
    user = api('POST', '/api/users', body={'username': USER_NAME, 'password': USER_PASSWORD, 'role': 'user'})
    user_key = user['access_key']
    user_token = api('POST', '/api/tokens', key=user_key, body={'name': 'e2e user token', 'quota': 1000})
    status, _, _ = http('GET', '/api/auth/me', key='tk-' + 'x' * 40)
    check('a wrong access key answers 401', status == 401, status)

    stale = os.path.join(SHOTS, 'failure.png')
    if os.path.exists(stale):
        os.remove(stale)
    d = make_driver()
    W = WebDriverWait(d, WAIT, ignored_exceptions=[StaleElementReferenceException])

    # --- sign-in ---
    d.get(BASE + '/')
    vis('#login-username')
    check('sign-in screen shown, app hidden', not displayed('app-shell') and displayed('login-screen'))
    check('dashboard answers with a CSP', http('GET', '/')[1].get('Content-Security-Policy', '').startswith("default-src 'self'"))
    shot('sign-in')
    sign_in('admin', 'not-the-password')
    err = until(lambda: displayed('login-error') and d.find_element(By.ID, 'login-error').text)
    check('wrong password shows an error', bool(err) and 'wrong' in err.lower(), err)
    check('wrong password stays on sign-in', not displayed('app-shell'))
    # The boot's /api/auth/me without a session and the wrong sign-in answer 401 on purpose.
    check_console('sign-in', expected=[r'/api/auth/(me|login) .*\b401\b'])
    # The one-time password leads to "Choose your password", and nothing else.
    sign_in('admin', DEMO_PASSWORD)
    vis('#password-screen')
    check('one-time password: app still hidden', not displayed('app-shell'))
    check('one-time password: not asked again', not displayed('password-current-field'))
    status, _, body = http('GET', '/api/tokens', headers={'Cookie': '; '.join(
        f"{c['name']}={c['value']}" for c in d.get_cookies())})
    check('one-time session: the API refuses everything else', status == 403
          and body['error']['code'] == 'password_change_required', f'{status} {body}')
    typ('#password-new', ADMIN_PASSWORD)
    typ('#password-confirm', ADMIN_PASSWORD + 'x')
    click('#password-submit')
    err = until(lambda: displayed('password-error') and d.find_element(By.ID, 'password-error').text)
    check('differing new passwords are refused in the page', bool(err) and 'differ' in err, err)
    shot('choose-password')
    typ('#password-new', ADMIN_PASSWORD)
    typ('#password-confirm', ADMIN_PASSWORD)
    click('#password-submit')
    vis('#app-shell')
    # --- Overview, the landing page: the demo's request is in it once one is made ---
    q('#view[data-route=overview]')
    check('overview is the landing page', 'overview' in d.current_url)
    check_console('overview')
    check('the one-time password no longer signs in', http('POST', '/api/auth/login', body={
        'username': 'admin', 'password': DEMO_PASSWORD})[0] == 401)
    click('#nav-tokens')
    q('#view[data-route=tokens]')
    check('signed in as admin', 'admin' in d.find_element(By.ID, 'current-user').text)
    check('admin sees admin nav', all(displayed(i) for i in ['nav-users', 'nav-groups', 'nav-prices', 'nav-channels', 'nav-webhooks', 'nav-ledger']))
    check('session cookie is not readable by scripts', 'tally_session' not in d.execute_script('return document.cookie'))

    # --- Tokens: create with a name and a quota, see the key once ---
    q('#tokens-table tr[data-token-id]')
    settle()
    click('#token-create')
    vis('#token-dialog')
    token_name = 'e2e token ' + secrets.token_hex(3)
    typ('#token-form-name', token_name)
    typ('#token-form-quota', '5,000,000')
    click('#token-form-submit')
    key = vis('#new-key-value').text.strip()
    check('one-time key dialog shows an sk- key', key.startswith('sk-') and len(key) > 20, key)
    check('key dialog warns it is shown once', 'not see this again' in d.find_element(By.ID, 'new-key-dialog').text)
    click('#new-key-copy')
    copied = until(lambda: d.find_element(By.ID, 'new-key-copied').text)
    check('copy button reports a result', bool(copied), copied)
    shot('new-key', full=False)
    click('#new-key-close')
    gone('#new-key-dialog')
    check('dialog removed from the page', not d.find_elements(By.ID, 'new-key-dialog'))
    row = until(lambda: d.find_element(By.XPATH, f"//table[@id='tokens-table']//tr[.//a[text()='{token_name}']]"))
    check('new token listed', row is not None)
    token_id = row.get_attribute('data-token-id') if row else None
    api_token = api('GET', f'/api/tokens/{token_id}') if token_id else {}
    check('quota saved as typed', api_token.get('quota') == 5_000_000, api_token.get('quota'))
    hint = row.find_element(By.CSS_SELECTOR, '[data-test=token-key-hint]').text if row else ''
    check('token row shows the key hint only', hint == api_token.get('key_hint') and '…' in hint and key not in row.text,
          f'row hint {hint!r}, API hint {api_token.get("key_hint")!r}')
    check('the key is nowhere on the page after closing', not page_has_text(key))
    check_console('tokens')

    # --- the relay with the new key ---
    status, request_id, body = relay(key)
    check('relay answers 200 with the new key', status == 200, f'{status} {body}')
    check('relay gives an x-request-id', bool(request_id), request_id)

    # --- Logs: the request appears ---
    click('#nav-logs')
    q('#view[data-route=logs]')
    selector = f'#logs-table tr[data-request-id="{request_id}"]'
    found = None
    deadline = time.time() + 15
    while time.time() < deadline:
        settle()
        found = d.find_elements(By.CSS_SELECTOR, selector)
        if found:
            break
        time.sleep(1)
        click('#logs-filter-apply')  # the page's own refresh
    check('request appears in Logs', bool(found), request_id)
    if found:
        cells = {c.get_attribute('data-test'): c.text for c in found[0].find_elements(By.CSS_SELECTOR, 'td')}
        check('log row names the token', cells.get('log-token') == token_name, cells.get('log-token'))
        check('log row shows the model', cells.get('log-model') == 'mock-gpt', cells.get('log-model'))
        check('log row shows status 200', cells.get('log-status') == '200', cells.get('log-status'))
        check('log row shows the channel name', cells.get('log-channel') == 'demo-openai', cells.get('log-channel'))
        check('log row shows the request id', cells.get('log-request-id') == request_id)
        check('log row charged credits', int(re.sub(r'\D', '', cells.get('log-credits', '') or '0') or 0) > 0,
              cells.get('log-credits'))
    export = d.find_element(By.ID, 'logs-export-csv').get_attribute('href')
    check('export link points at the export route', '/api/logs/export' in export and 'format=csv' in export, export)
    shot('logs')
    check_console('logs')

    # --- Overview: the request in the charts ---
    click('#nav-overview')
    q('#view[data-route=overview]')
    bars = until(lambda: [b for b in d.find_elements(By.CSS_SELECTOR, '#overview-chart rect.chart-bar')
                          if float(b.get_attribute('data-value') or 0) > 0])
    check('overview chart shows the spend of the request', bool(bars))
    check('overview splits by model: mock-gpt', bool(until(lambda: d.find_elements(
        By.CSS_SELECTOR, '#overview-split-table tr[data-key="mock-gpt"]'))))
    check('overview ranks the token among the top tokens', bool(until(lambda: d.find_elements(
        By.CSS_SELECTOR, f'#overview-top-tokens-table tr[data-key="{token_id}"]'))))
    check('overview ranks the admin among the top users', bool(until(lambda: d.find_elements(
        By.CSS_SELECTOR, f'#overview-top-users-table tr[data-key="{me["id"]}"]'))))
    requests_text = until(lambda: d.find_element(By.ID, 'overview-requests').text)
    check('overview counts requests', int(re.sub(r'\D', '', requests_text or '') or 0) >= 1, requests_text)
    check('overview shows p50 and p99', '≤' in d.find_element(By.ID, 'overview-p50').text
          and '≤' in d.find_element(By.ID, 'overview-p99').text)
    Select(d.find_element(By.ID, 'overview-split')).select_by_value('channel')
    check('overview splits by channel: demo-openai', bool(until(lambda: [r for r in d.find_elements(
        By.CSS_SELECTOR, '#overview-split-table tr[data-key]') if 'demo-openai' in r.text])))
    settle()
    shot('overview')
    check_console('overview with a request')
    Select(d.find_element(By.ID, 'overview-split')).select_by_value('token')
    check('overview splits by token: the request\'s token, named', bool(until(lambda: [r for r in d.find_elements(
        By.CSS_SELECTOR, f'#overview-split-table tr[data-key="{token_id}"]') if r.text.strip()])))
    check_console('overview by token')

    # --- token detail: used > 0, the chart ---
    click('#nav-tokens')
    q(f'#tokens-table tr[data-token-id="{token_id}"]')
    settle()
    shot('tokens')
    click(f'#tokens-table tr[data-token-id="{token_id}"] a')
    q('#token-detail')
    q('#usage-chart')
    settle()
    used_text = d.find_element(By.CSS_SELECTOR, '#token-detail-fields dd[data-field=used]').text
    used = int(re.sub(r'\D', '', used_text) or 0)
    check('detail shows used > 0', used > 0, used_text)
    bars = d.find_elements(By.CSS_SELECTOR, '#usage-chart rect.chart-bar')
    check('usage chart is an svg with bars', d.find_element(By.ID, 'usage-chart').tag_name == 'svg' and len(bars) >= 7,
          len(bars))
    check('usage chart has a non-zero bar', any(float(b.get_attribute('data-value') or 0) > 0 for b in bars))
    recent = until(lambda: d.find_elements(By.CSS_SELECTOR, f'#token-logs-table tr[data-request-id="{request_id}"]'))
    check('detail lists the request under recent requests', bool(recent))
    check('detail shows the hint, not the key', not page_has_text(key)
          and d.find_element(By.CSS_SELECTOR, 'dd[data-field=key_hint]').text == api_token.get('key_hint'))
    shot('token-detail')
    check_console('token detail')

    # --- disable in the UI: the relay refuses the key ---
    click('#token-detail-disable')
    q('#token-detail-enable')
    status_text = until(lambda: d.find_element(By.CSS_SELECTOR, 'dd[data-field=status]').text)
    check('detail shows disabled', status_text == 'disabled', status_text)
    status, _, body = relay(key)
    check('relay answers 401 for the disabled token', status == 401, f'{status} {body}')
    check_console('disable')

    # --- admin pages ---
    for page, table in [('users', '#users-table'), ('groups', '#groups-table'),
                        ('prices', '#prices-table'), ('channels', '#channels-table')]:
        click(f'#nav-{page}')
        q(f'#view[data-route={page}]')
        ok = until(lambda: d.find_elements(By.CSS_SELECTOR, f'{table} tbody tr')
                   or d.find_elements(By.CSS_SELECTOR, '#view [data-test=error]'))
        errors = d.find_elements(By.CSS_SELECTOR, '#view [data-test=error]')
        check(f'{page} page renders its table', bool(ok) and not errors,
              errors[0].text if errors else 'no rows')
        settle()
        if page == 'users':
            check('users page lists the second user', bool(d.find_elements(By.CSS_SELECTOR, f'tr[data-username="{USER_NAME}"]')))
            balance = d.find_element(By.CSS_SELECTOR, f'tr[data-user-id="{me["id"]}"] [data-test=user-balance]').text
            check('users page shows the admin balance', re.sub(r'\D', '', balance) != '', balance)
        if page == 'prices':
            check('prices page lists mock-gpt', bool(d.find_elements(By.CSS_SELECTOR, '#prices-table tr[data-model="mock-gpt"]')))
        if page in ('users', 'groups', 'prices'):
            shot(page)
        check_console(page)

    # Prices: a per-token price with cache-write, image and tool-call prices through the form
    # (Docs/billing.md); the fields left empty stay unset.
    click('#nav-prices')
    q('#view[data-route=prices]')
    click('#price-create')
    vis('#price-dialog')
    for field, value in [('model', 'e2e-cached-model'), ('input', '3000000'), ('output', '15000000'),
                         ('cache-write', '3750000'), ('cache-write-1h', '6000000'), ('per-web-search', '10000'),
                         ('image-output', '30000000'), ('per-file-search', '2500')]:
        typ(f'#price-form-{field}', value)
    click('#price-form-submit')
    gone('#price-dialog')
    price = api('GET', '/api/prices/e2e-cached-model')
    check('price form sets cache-write, image and tool-call prices',
          (price['cache_write'], price['cache_write_1h'], price['per_web_search'], price['audio_input'], price['image_output'],
           price['per_file_search'], price['per_web_fetch']) == (3750000, 6000000, 10000, None, 30000000, 2500, None),
          price)
    check_console('price form')
    click('#nav-channels')
    q('#view[data-route=channels]')

    # Channels: add one through the form with a known secret; it must never come back.
    click('#channel-create')
    vis('#channel-dialog')
    typ('#channel-form-name', 'e2e-upstream')
    typ('#channel-form-base-url', 'http://127.0.0.1:9')
    typ('#channel-form-key', CHANNEL_SECRET)
    typ('#channel-form-models', 'e2e-unrouted-model')
    enabled_box = d.find_element(By.ID, 'channel-form-enabled')
    if enabled_box.is_selected():
        # Centre it first: at the scroll end the dialog's sticky buttons sit over it.
        d.execute_script('arguments[0].scrollIntoView({block: "center"})', enabled_box)
        enabled_box.click()
    click('#channel-form-submit')
    gone('#channel-dialog')
    crow = until(lambda: d.find_element(By.XPATH, "//table[@id='channels-table']//tr[.//*[text()='e2e-upstream']]"))
    check('new channel listed', crow is not None)
    if crow:
        check('new channel shows key set', crow.find_element(By.CSS_SELECTOR, '[data-test=channel-key]').text == 'set')
        crow.find_element(By.CSS_SELECTOR, '[data-action=edit]').click()
        vis('#channel-dialog')
        check('channel edit form does not pre-fill the key', d.find_element(By.ID, 'channel-form-key').get_attribute('value') == '')
        click('#channel-form-cancel')
        gone('#channel-dialog')
    settle()
    check('channel keys are never displayed',
          not page_has_text(CHANNEL_SECRET) and not page_has_text(DEMO_CHANNEL_SECRET))
    _, _, channels = http('GET', '/api/channels', key=ADMIN_KEY)
    check('channel API never returns the key', CHANNEL_SECRET not in json.dumps(channels))
    shot('channels')
    check_console('channels')

    # Channels: a per-channel connect timeout through the edit form (Docs/routing.md, "Timeouts").
    crow = until(lambda: d.find_element(By.XPATH, "//table[@id='channels-table']//tr[.//*[text()='e2e-upstream']]"))
    crow.find_element(By.CSS_SELECTOR, '[data-action=edit]').click()
    vis('#channel-dialog')
    typ('#channel-form-timeout-connect', '2.5')
    click('#channel-form-submit')
    gone('#channel-dialog')
    e2e_channel = [c for c in api('GET', '/api/channels')['data'] if c['name'] == 'e2e-upstream']
    check('channel form sets the connect timeout', bool(e2e_channel)
          and e2e_channel[0]['timeouts'] == {'first_byte': None, 'idle': None, 'connect': 2.5}, e2e_channel)
    check_console('channel timeouts')

    # Routing strategies: set one for the demo model; the next request's log row names it.
    click('#routing-create')
    vis('#routing-dialog')
    typ('#routing-form-name', 'mock-gpt')
    Select(d.find_element(By.ID, 'routing-form-strategy')).select_by_value('least_busy')
    click('#routing-form-submit')
    gone('#routing-dialog')
    rrow = until(lambda: d.find_elements(By.CSS_SELECTOR, '#routing-table tr[data-scope=model][data-name="mock-gpt"]'))
    check('routing strategy listed', bool(rrow) and rrow[0].find_element(By.CSS_SELECTOR, '[data-test=routing-strategy]').text == 'least_busy')
    check('routing set through the API', api('GET', '/api/routing')['models'] == {'mock-gpt': 'least_busy'})
    routed_key = api('POST', '/api/tokens', body={'name': 'e2e routing'})['key']
    status, routed_request, _ = relay(routed_key)
    rows = api('GET', f'/api/logs?request={routed_request}')['data']
    check('the log row names the strategy', status == 200 and rows and rows[0]['routing'] == 'least_busy', rows[:1])
    rrow[0].find_element(By.CSS_SELECTOR, '[data-action=reset]').click()
    click('#confirm-ok')
    check('routing reset to weighted', bool(until(lambda: d.find_elements(By.ID, 'routing-empty'))))
    go(f'#/logs?request={routed_request}')
    cell = until(lambda: d.find_element(By.CSS_SELECTOR, f'#logs-table tr[data-request-id="{routed_request}"] [data-test=log-routing]').text)
    check('the Logs page shows the strategy', cell == 'least_busy', cell)
    go('#/channels')
    q('#view[data-route=channels]')
    check_console('routing')

    # --- Webhooks: create one (its secret shown once, never again), its deliveries, delete ---
    click('#nav-webhooks')
    q('#view[data-route=webhooks]')
    until(lambda: d.find_elements(By.ID, 'webhooks-empty') or d.find_elements(By.CSS_SELECTOR, '#webhooks-table tbody tr'))
    click('#webhook-create')
    vis('#webhook-dialog')
    typ('#webhook-form-url', 'http://127.0.0.1:9/e2e-hook')
    for kind in ('token-budget', 'user-budget'):
        box = d.find_element(By.ID, f'webhook-form-alert-{kind}')
        d.execute_script('arguments[0].scrollIntoView({block: "center"})', box)
        box.click()
    click('#webhook-form-submit')
    hook_secret = until(lambda: d.find_element(By.ID, 'new-key-value').text)
    check('webhook secret shown once', (hook_secret or '').startswith('whsec_'), hook_secret)
    click('#new-key-close')
    gone('#new-key-dialog')
    hook_row = until(lambda: d.find_element(By.XPATH, "//table[@id='webhooks-table']//tr[.//*[text()='http://127.0.0.1:9/e2e-hook']]"))
    check('new webhook listed with the alerts chosen', hook_row is not None
          and hook_row.find_element(By.CSS_SELECTOR, '[data-test=webhook-alerts]').text
          == 'token.quota, user.low_balance, channel.suspended')
    check('webhook secret never displayed again', not page_has_text(hook_secret))
    hooks = api('GET', '/api/webhooks')
    check('webhook API never returns the secret', hook_secret not in json.dumps(hooks))
    if hook_row:
        hook_row.find_element(By.CSS_SELECTOR, '[data-action=deliveries]').click()
        vis('#deliveries-dialog')
        check('deliveries dialog opens', bool(until(lambda: d.find_elements(By.CSS_SELECTOR,
                                                                             '#webhook-deliveries-empty, #webhook-deliveries-table'))))
        click('#deliveries-close')
        gone('#deliveries-dialog')
    settle()
    shot('webhooks')
    if hook_row:
        hook_row = d.find_element(By.XPATH, "//table[@id='webhooks-table']//tr[.//*[text()='http://127.0.0.1:9/e2e-hook']]")
        hook_row.find_element(By.CSS_SELECTOR, '[data-action=delete]').click()
        click('#confirm-ok')
        check('webhook deleted', bool(until(lambda: d.find_elements(By.ID, 'webhooks-empty'))))
    check_console('webhooks')

    # Users: the low-balance alert threshold through the edit form.
    click('#nav-users')
    q('#view[data-route=users]')
    until(lambda: d.find_elements(By.CSS_SELECTOR, f'tr[data-user-id="{me["id"]}"]'))
    click(f'tr[data-user-id="{me["id"]}"] [data-action=edit]')
    vis('#user-dialog')
    typ('#user-form-low-balance', '12,345')
    click('#user-form-submit')
    gone('#user-dialog')
    cell = until(lambda: re.sub(r'\D', '', d.find_element(By.CSS_SELECTOR, f'tr[data-user-id="{me["id"]}"] [data-test=user-low-balance]').text))
    check('users page shows the low-balance threshold', cell == '12345', cell)
    listed = [u for u in api('GET', '/api/users')['data'] if u['id'] == me['id']]
    check('the threshold is set through the API', bool(listed) and listed[0].get('low_balance') == 12345, listed)
    check_console('low balance')

    # --- Ledger: the head, counts, Verify now, and a charge to its log row and back ---
    click('#nav-ledger')
    q('#view[data-route=ledger]')
    head = api('GET', '/api/ledger/head')
    seq_text = until(lambda: d.find_element(By.ID, 'ledger-head-seq').text)
    shown_seq = int(re.sub(r'\D', '', seq_text or '') or 0)
    check('ledger page shows the head sequence', 1 <= shown_seq and shown_seq <= head['seq'] + 5, f'{seq_text} vs {head["seq"]}')
    check('ledger page shows a 64-digit head hash', re.fullmatch(r'[0-9a-f]{64}', d.find_element(By.ID, 'ledger-head-hash').text) is not None)
    check('ledger page counts settled charges',
          bool(until(lambda: d.find_elements(By.CSS_SELECTOR, '#ledger-counts tr[data-type="charge.settled"]'))))
    click('#ledger-verify-now')
    verdict = until(lambda: d.find_element(By.ID, 'ledger-verify-report').get_attribute('data-clean'), timeout=60)
    check('Verify now reports the ledger intact', verdict == 'true', verdict)
    check('the report says when it ran', bool(d.find_element(By.ID, 'ledger-verify-when').text))
    settle()
    shot('ledger')
    typ('#events-filter-request', request_id)
    click('#events-filter-apply')
    rows = until(lambda: d.find_elements(By.CSS_SELECTOR, f'#events-table tr[data-request-id="{request_id}"]'))
    types = [r.get_attribute('data-type') for r in rows or []]
    check("events browser finds the request's charge events", 'charge.reserved' in types and 'charge.settled' in types, types)
    click('#events-table tr[data-type="charge.settled"] a[data-test=event-log-link]')
    q('#view[data-route=logs]')
    linked = until(lambda: d.find_elements(By.CSS_SELECTOR, f'#logs-table tr[data-request-id="{request_id}"]'))
    check('the charge links to its log row, alone', bool(linked)
          and len(d.find_elements(By.CSS_SELECTOR, '#logs-table tbody tr')) == 1)
    click(f'#logs-table tr[data-request-id="{request_id}"] a[data-test=log-events-link]')
    q('#view[data-route=ledger]')
    back = until(lambda: d.find_elements(By.CSS_SELECTOR, f'#events-table tr[data-request-id="{request_id}"]'))
    check('the log row links back to its events', bool(back))
    check_console('ledger')

    # --- phone width ---
    d.execute_cdp_cmd('Emulation.setDeviceMetricsOverride',
                      {'width': 390, 'height': 844, 'deviceScaleFactor': 2, 'mobile': True})
    try:
        go('#/tokens')
        q('#tokens-table tr[data-token-id]')
        settle()
        time.sleep(0.3)
        width, viewport = body_overflow()
        check('phone: tokens page has no horizontal overflow', viewport == 390 and width <= viewport,
              f'scrollWidth {width}, viewport {viewport}')
        check('phone: menu button shown, links collapsed', displayed('nav-toggle') and not displayed('nav-logs'))
        shot('phone-tokens')
        click('#nav-toggle')
        vis('#nav-logs')
        check('phone: menu opens', d.find_element(By.ID, 'nav-toggle').get_attribute('aria-expanded') == 'true')
        click('#nav-logs')
        q('#logs-table')
        settle()
        width, viewport = body_overflow()
        check('phone: logs page has no horizontal overflow', width <= viewport, f'scrollWidth {width}, viewport {viewport}')
        check_console('phone')
    finally:
        d.execute_cdp_cmd('Emulation.clearDeviceMetricsOverride', {})

    # --- a plain user ---
    click('#logout')
    vis('#login-username')
    check('signed out: no data left on the page', d.find_element(By.ID, 'view').text == '' and token_name not in d.page_source)
    sign_in(USER_NAME, USER_PASSWORD)
    vis('#app-shell')
    go('#/tokens')
    q('#view[data-route=tokens]')
    until(lambda: d.find_elements(By.CSS_SELECTOR, '#tokens-table tr[data-token-id]') or d.find_elements(By.ID, 'tokens-empty'))
    settle()
    check('user: no admin nav items', not any(displayed(i) for i in ['nav-users', 'nav-groups', 'nav-prices', 'nav-channels', 'nav-webhooks', 'nav-ledger']))
    ids = [r.get_attribute('data-token-id') for r in d.find_elements(By.CSS_SELECTOR, '#tokens-table tr[data-token-id]')]
    check("user: sees their own token", user_token['id'] in ids, ids)
    check("user: does not see the admin's token", token_id not in ids and token_name not in d.page_source, ids)
    go(f'#/tokens/{token_id}')
    nf = until(lambda: d.find_elements(By.ID, 'token-not-found'))
    check("user: the admin's token detail is not found", bool(nf))
    go('#/overview')
    q('#view[data-route=overview]')
    until(lambda: d.find_elements(By.CSS_SELECTOR, '#overview-top-tokens-table, #overview-top-tokens-empty'))
    check('user: overview has no top users', not d.find_elements(By.ID, 'overview-top-users-panel'))
    check("user: overview shows none of the admin's tokens",
          not d.find_elements(By.CSS_SELECTOR, f'#overview-top-tokens-table tr[data-key="{token_id}"]'))
    go('#/users')
    check('user: Users page refused', bool(until(lambda: d.find_elements(By.ID, 'forbidden'))))
    go('#/logs')
    q('#view[data-route=logs]')
    until(lambda: d.find_elements(By.CSS_SELECTOR, '#logs-table') or d.find_elements(By.ID, 'logs-empty'))
    settle()
    check("user: the admin's request is not in their logs", request_id not in d.page_source)
    # The admin's token id answers 404 on purpose (isolation).
    check_console('plain user', expected=[rf'/api/tokens/{re.escape(token_id or "-")}.*\b404\b'])
    click('#logout')
    vis('#login-username')


def main():
    try:
        run()
    except Exception:  # noqa: BLE001 — any crash is one failure, with the trace and a screenshot
        traceback.print_exc()
        check('scenario ran to the end', False)
        if d is not None:
            try:
                os.makedirs(SHOTS, exist_ok=True)
                d.save_screenshot(os.path.join(SHOTS, 'failure.png'))
                print(f'screenshot of the failure: {os.path.join(SHOTS, "failure.png")}')
            except Exception:  # noqa: BLE001
                pass
    finally:
        if d is not None:
            d.quit()
    print(f'{passed} passed, {failed} failed', flush=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
