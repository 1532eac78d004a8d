// Cross-site request forgery, first line: a form post (or a watcher's upgrade) must come from this
// origin. Browsers send `Origin` on every POST and `Sec-Fetch-Site` on every request; either one
// naming another origin is refused. SameSite=Strict alone is not enough: another port on the same
// host is "same-site" and would get the cookie. The second line is the per-session token in each
// form (session.ts).

export type OriginVerdict = { ok: true } | { ok: false; why: string };

export function sameOrigin(request: Request): OriginVerdict {
  const own = new URL(request.url).origin;
  const origin = request.headers.get('Origin');
  if (origin !== null && origin !== own) return { ok: false, why: `it came from ${origin === 'null' ? 'an opaque origin' : origin}, not ${own}` };
  const site = request.headers.get('Sec-Fetch-Site');
  if (site !== null && site !== 'same-origin') return { ok: false, why: `the browser says it was sent ${site === 'none' ? 'without a page' : `from a ${site} page`}` };
  return { ok: true };
}
