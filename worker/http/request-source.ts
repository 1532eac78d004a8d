// Where a request came from, for audit entries: Cloudflare's client address header when present.
export function requestSource(request: Request): string | null {
  return request.headers.get('CF-Connecting-IP') ?? request.headers.get('X-Forwarded-For');
}
