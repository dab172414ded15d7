// The management API client: one fetch wrapper for every call the dashboard makes.
//
// Why one wrapper: every state-changing request must carry `X-Tally-CSRF: 1`
// (the server refuses cookie-authenticated writes without it), every error
// body has the same shape `{"error":{"message","code"}}`, and a 401 from any
// call (except sign-in itself) must send the person back to the sign-in screen.

/** An API failure with the server's own message, ready to show near the form. */
export class ApiError extends Error {
  constructor(status, message, code, retryAfter) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || null;
    this.retryAfter = retryAfter || null;
  }
}

let unauthorizedHandler = null;

/** Registers what happens when any call answers 401 (the app shows sign-in). */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

const FALLBACK_MESSAGES = {
  400: 'The server could not accept this request.',
  401: 'Your session has ended. Please sign in again.',
  403: 'You do not have permission to do that.',
  404: 'Not found. It may have been deleted.',
  409: 'This conflicts with the current state. Reload and try again.',
  413: 'The request is too large.',
  422: 'Some values are not valid.',
  429: 'Too many requests. Wait a moment and try again.',
};

/** Builds `a=1&b=2`, leaving out empty, null and undefined values. */
export function buildQuery(params) {
  const qs = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === '') continue;
    qs.set(key, String(value));
  }
  return qs.toString();
}

/** `/api/x` plus a query string built from `params` (empty values dropped). */
export function apiUrl(path, params) {
  const qs = buildQuery(params);
  return qs ? `${path}?${qs}` : path;
}

/** Encodes one path segment (ids, group names, model names). */
export function seg(value) {
  return encodeURIComponent(String(value));
}

/**
 * Calls the API.
 * @param {string} method GET, POST, PATCH, PUT or DELETE
 * @param {string} path   e.g. `/api/tokens`
 * @param {{query?: object, body?: any, redirectOn401?: boolean}} [options]
 * @returns {Promise<any>} the parsed JSON body, or null for 204
 */
export async function api(method, path, options = {}) {
  const { query, body, redirectOn401 = true } = options;
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-Tally-CSRF'] = '1';
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }

  let response;
  try {
    response = await fetch(apiUrl(path, query), init);
  } catch {
    throw new ApiError(0, 'Cannot reach the Tally server. Check your connection and try again.', 'network');
  }

  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }

  if (!response.ok) {
    const apiErr = data && typeof data === 'object' ? data.error : null;
    const message = (apiErr && typeof apiErr.message === 'string' && apiErr.message)
      || FALLBACK_MESSAGES[response.status]
      || `The server answered ${response.status}. Try again later.`;
    const error = new ApiError(response.status, message, apiErr && apiErr.code,
      response.headers.get('Retry-After'));
    if (response.status === 401 && redirectOn401 && unauthorizedHandler) unauthorizedHandler(error);
    throw error;
  }
  return data;
}

/** Lists may answer `{"data":[..]}` or a bare array; both become an array. */
export function listOf(result) {
  if (Array.isArray(result)) return result;
  if (result && Array.isArray(result.data)) return result.data;
  return [];
}
