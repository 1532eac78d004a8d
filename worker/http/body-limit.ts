// Reads a request body once into one buffer, refusing it as soon as it is known to be too large:
// from `Content-Length` before a byte is read, or, for a body sent without one (chunked), as soon
// as the bytes read pass the limit, when reading stops and the rest is never pulled. An oversized
// body costs at most `limit` bytes of memory.
//
// One buffer: each chunk is copied into it as it arrives, not kept in a list of chunks joined at the
// end (which held every byte twice). A declared length up to EAGER_BYTES (GitHub's deliveries are
// almost all smaller) is allocated at once and never grows; a larger or unknown one starts smaller
// and doubles as bytes actually arrive, up to the declared length or the limit, so a client that
// declares 25 MB and sends nothing holds only EAGER_BYTES of memory. The caller gets a view of
// that buffer, never a decoded and re-encoded copy.
export type LimitedBody = { ok: true; bytes: Uint8Array } | { ok: false; reason: 'too_large' };

/** Allocated before the bytes are there: what a client can make the edge hold without sending them. */
const EAGER_BYTES = 1024 * 1024;
/** The first buffer of a body without `Content-Length`. */
const FIRST_CHUNKED_BYTES = 64 * 1024;

/** `Content-Length` as a byte count, or null when absent or not a plain decimal number. */
function declaredLength(request: Request): number | null {
  const header = request.headers.get('Content-Length');
  return header !== null && /^\d{1,16}$/.test(header.trim()) ? Number(header.trim()) : null;
}

export async function readLimitedBody(request: Request, limit: number): Promise<LimitedBody> {
  const declared = declaredLength(request);
  if (declared !== null && declared > limit) return { ok: false, reason: 'too_large' };
  if (!request.body) return { ok: true, bytes: new Uint8Array() };
  const reader = request.body.getReader();
  let buffer = new Uint8Array(Math.min(declared ?? FIRST_CHUNKED_BYTES, EAGER_BYTES, limit));
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const end = total + value.byteLength;
    if (end > limit) {
      await reader.cancel();
      return { ok: false, reason: 'too_large' };
    }
    if (end > buffer.byteLength) {
      const cap = declared !== null && end <= declared ? declared : limit;
      const grown = new Uint8Array(Math.min(cap, Math.max(end, buffer.byteLength * 2)));
      grown.set(buffer.subarray(0, total));
      buffer = grown;
    }
    buffer.set(value, total);
    total = end;
  }
  return { ok: true, bytes: total === buffer.byteLength ? buffer : buffer.subarray(0, total) };
}
