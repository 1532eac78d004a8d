// One attempt to deliver an outward message over HTTP, and what its answer means for the outbox:
// delivered, worth retrying (network, timeout, 408, 429, 5xx, GitHub's rate limits), or refused for
// good (any other 4xx: a wrong token, a missing permission, a URL Slack revoked). Never throws.

/** How long one request may take; the hub's alarm must not hang on a dead endpoint. */
export const REQUEST_TIMEOUT_MS = 10_000;

export type Attempt =
  | { ok: true; status: number; body: unknown }
  | { ok: false; retry: boolean; error: string; retryAfterMs: number | null };

export async function attempt(url: string, init: RequestInit, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Attempt> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const why = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `could not connect (${error instanceof Error ? error.message : String(error)})`;
    return { ok: false, retry: true, error: `${new URL(url).host}: ${why}`, retryAfterMs: null };
  }
  const text = await response.text().catch(() => '');
  if (response.ok) {
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // Slack answers a plain "ok".
    }
    return { ok: true, status: response.status, body };
  }
  const retryAfterMs = retryAfter(response.headers);
  const rateLimited = response.status === 403 && (response.headers.get('x-ratelimit-remaining') === '0' || retryAfterMs !== null);
  const retry = response.status === 408 || response.status === 429 || response.status >= 500 || rateLimited;
  return { ok: false, retry, error: `${new URL(url).host} answered ${response.status}: ${summarize(text)}`, retryAfterMs };
}

/** `Retry-After` in seconds, or GitHub's `x-ratelimit-reset` (epoch seconds) when the limit is spent. */
function retryAfter(headers: Headers): number | null {
  const after = headers.get('retry-after');
  if (after && /^\d+$/.test(after)) return Number(after) * 1000;
  const reset = headers.get('x-ratelimit-reset');
  if (headers.get('x-ratelimit-remaining') === '0' && reset && /^\d+$/.test(reset)) return Math.max(0, Number(reset) * 1000 - Date.now());
  return null;
}

function summarize(text: string): string {
  let message = text;
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON: keep the text
  }
  const line = message.replace(/\s+/g, ' ').trim();
  return line ? line.slice(0, 300) : '(empty body)';
}
