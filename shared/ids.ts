// Identifiers that sort by creation time, so history pages are stable without a separate sequence,
// and the exact shape of every identifier that crosses the wire between the edge and a relay. The
// relay builds folder and file names from some of them, so each shape admits no `/`, `.`, NUL or
// anything else a path could be made of; `newId` and `idPattern` live side by side so they cannot drift.

/** Crockford-style base32, lowercase: no i, l, o, u, so an id read aloud or retyped stays the same. */
export const ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TIME_CHARS = 10;
const RANDOM_CHARS = 8;

function encodeTime(ms: number, length: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < length; i += 1) {
    out = ID_ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function randomPart(length: number): string {
  const bytes = new Uint8Array(length);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => ID_ALPHABET[b % 32]).join('');
}

/** `dep_` + 10 chars of time + 8 random: sortable by creation, unique enough per target. */
export function newId(prefix: string, now: number = Date.now()): string {
  return `${prefix}_${encodeTime(now, TIME_CHARS)}${randomPart(RANDOM_CHARS)}`;
}

/** Exactly what `newId(prefix)` makes, and nothing else. */
export function idPattern(prefix: string): RegExp {
  if (!/^[a-z]+$/.test(prefix)) throw new Error(`an id prefix is lowercase letters, not ${JSON.stringify(prefix)}`);
  return new RegExp(`^${prefix}_[${ID_ALPHABET}]{${TIME_CHARS + RANDOM_CHARS}}$`);
}

/** A deployment (the relay calls it a job): `dep_01m82e4vg06ns08fd0`. */
export const DEPLOYMENT_ID_PATTERN = idPattern('dep');

/** A capture of host edits into the config repository: `cap_01m82e4vg06ns08fd0`. */
export const CAPTURE_ID_PATTERN = idPattern('cap');

/** An alert sent to the house's Home Assistant `notify.*` services through the relay: `alr_01m82e4vg06ns08fd0`. */
export const ALERT_ID_PATTERN = idPattern('alr');

/** A read-only plan of a pull request's head against the live host: `pln_01m82e4vg06ns08fd0`. */
export const PLAN_ID_PATTERN = idPattern('pln');

/**
 * A backup as the relay names it (`newBackupId` in relay/pipeline/backups.ts): `lanyard-`, the UTC
 * time it was taken to the second, and up to 32 letters, digits, `_` or `-` (the end of the job's
 * id): `lanyard-20261122T190500Z-01m82e4vg06ns08fd0`.
 */
export const BACKUP_ID_PATTERN = /^lanyard-\d{8}T\d{6}Z-[a-z0-9_-]{1,32}$/;

/** A target's name, in URLs, entity ids and the relay's config: `home`, `cabin-2`. */
export const TARGET_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
