// Verifying X-Hub-Signature-256: HMAC-SHA256 of the raw body with the webhook secret, as GitHub
// computes it, checked by WebCrypto's `verify` (constant time), with a second secret accepted during
// rotation. The bytes as received are verified, never a decoded and re-encoded copy: that copy
// cost a millisecond per megabyte, and a body that is not valid UTF-8 would not survive it. A
// malformed header is an answer (401), never an exception.
export type SignatureVerdict = { ok: true } | { ok: false; reason: string };

const WELL_FORMED = /^sha256=[0-9a-f]{64}$/;

/** Imported once per secret and isolate: secrets only change with a new deployment of the Worker. */
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    // A failed import is not kept: the next request tries again.
    key.catch(() => keys.delete(secret));
    keys.set(secret, key);
  }
  return key;
}

function digestOf(header: string): Uint8Array {
  const hex = header.slice('sha256='.length);
  const digest = new Uint8Array(hex.length / 2);
  for (let i = 0; i < digest.length; i += 1) digest[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return digest;
}

export async function checkSignature(
  body: Uint8Array,
  header: string | null,
  secret: string | undefined,
  previousSecret: string | undefined,
): Promise<SignatureVerdict> {
  if (!secret) return { ok: false, reason: 'the edge has no WEBHOOK_SECRET configured, so no delivery can be trusted' };
  if (!header) return { ok: false, reason: 'missing X-Hub-Signature-256 header' };
  if (!WELL_FORMED.test(header)) return { ok: false, reason: 'malformed X-Hub-Signature-256 header (expected sha256=<64 hex digits>)' };
  const digest = digestOf(header);
  try {
    for (const candidate of previousSecret ? [secret, previousSecret] : [secret]) {
      if (await crypto.subtle.verify('HMAC', await hmacKey(candidate), digest, body)) return { ok: true };
    }
    return { ok: false, reason: 'signature does not match the webhook secret' };
  } catch (error) {
    return { ok: false, reason: `signature could not be checked: ${error instanceof Error ? error.message : String(error)}` };
  }
}
