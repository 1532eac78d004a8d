// A link taken from a payload or an API answer is only ever used as one when it is http(s): a
// `javascript:` or `data:` URL in an href would run in the reader's page.
export function httpUrlOrNull(value: string | null | undefined): string | null {
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
}
