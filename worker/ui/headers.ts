// The security headers of every page: a Content-Security-Policy that lets only this response's own
// inline style and script run (by nonce), forbids framing and other origins; no MIME sniffing; no
// referrer outside the site; nothing cached, since pages carry a CSRF token and private status.

export function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    // 'self' covers ws:// and wss:// to this host: the live updates.
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function securityHeaders(nonce: string | null): Record<string, string> {
  const headers: Record<string, string> = {
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cache-Control': 'no-store',
  };
  headers['Content-Security-Policy'] = nonce ? contentSecurityPolicy(nonce) : "default-src 'none'; frame-ancestors 'none'";
  return headers;
}
