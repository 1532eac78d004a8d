// Comparing secrets: tokens are hashed with SHA-256 and the digests compared in constant time, so
// neither the length nor the content of a stored token leaks through timing. A stored value may be
// the token itself or `sha256:<hex>` of it, so secrets can be kept hashed at rest.

const encoder = new TextEncoder();

export async function sha256Hex(value: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(value));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The digest a stored secret stands for: `sha256:<hex>` as is, anything else hashed. */
export async function storedDigest(stored: string): Promise<string> {
  const match = /^sha256:([0-9a-f]{64})$/i.exec(stored);
  return match ? match[1]!.toLowerCase() : sha256Hex(stored);
}

export function digestsEqual(a: string, b: string): boolean {
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  if (left.byteLength !== right.byteLength) return false;
  return crypto.subtle.timingSafeEqual(left, right);
}

export async function secretMatches(presented: string, stored: string): Promise<boolean> {
  return digestsEqual(await sha256Hex(presented), await storedDigest(stored));
}
