// Identifiers that sort by creation time, so history pages are stable without a separate sequence.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

function encodeTime(ms: number, length: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < length; i += 1) {
    out = ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function randomPart(length: number): string {
  const bytes = new Uint8Array(length);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => ALPHABET[b % 32]).join('');
}

/** `dep_` + 10 chars of time + 8 random: sortable by creation, unique enough per target. */
export function newId(prefix: string, now: number = Date.now()): string {
  return `${prefix}_${encodeTime(now, 10)}${randomPart(8)}`;
}
