// Release tags (issue 18): which pushed tags a `{ type: "tag", pattern }` trigger deploys, and in
// what order. Pure, and the same at the edge (workerd) and in tests.
//
// The glob is matched here rather than with picomatch: the pattern's alphabet is small (TARGETS
// allows letters, digits, `.`, `_`, `-`, `/`, `*` and `?`), and picomatch reads `process` and
// `path`, which workerd has only behind the nodejs_compat flag. The rules are those of GitHub's
// own tag filters: `*` is any run of characters without `/`, `**` any run with them, `?` one
// character that is not `/`; everything else stands for itself.
//
// Versions follow semver.org 2.0.0. A tag's version is what follows the pattern's literal prefix
// (everything before its first `*` or `?`: `v` for `v*`, `release-` for `release-*`), then one
// optional `v` unless the prefix ends in one: `v1.2.3` under `v*`, `release-1.2.3` under
// `release-*` and `v1.2.3` under `*` are all 1.2.3 (and `vv1.2.3` under `v*` is no version).
// Anything else (a date, `latest`, `1.2`) is no semantic version, and says why.

/** Whether `tag` (the name after `refs/tags/`) matches the trigger's glob. */
export function tagMatches(pattern: string, tag: string): boolean {
  return globToRegExp(pattern).test(tag);
}

function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i += 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/** The part of the pattern before its first wildcard: stripped from a tag before its version is read. */
export function literalPrefix(pattern: string): string {
  const wildcard = pattern.search(/[*?]/);
  return wildcard === -1 ? pattern : pattern.slice(0, wildcard);
}

export interface SemanticVersion {
  major: string;
  minor: string;
  patch: string;
  /** Dot-separated pre-release identifiers; empty for a release. */
  prerelease: string[];
  /** Build metadata: shown, never ordered by. */
  build: string[];
}

export type ParsedTag = { ok: true; version: SemanticVersion } | { ok: false; reason: string };

// semver.org's own regular expression (numeric identifiers without leading zeros).
const NUMERIC = '0|[1-9]\\d*';
const PRE_ID = `(?:${NUMERIC}|\\d*[a-zA-Z-][0-9a-zA-Z-]*)`;
const SEMVER = new RegExp(
  `^(${NUMERIC})\\.(${NUMERIC})\\.(${NUMERIC})(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$`,
);

/** The semantic version a tag names under the trigger's pattern, or why it names none. Never throws. */
export function parseReleaseTag(tag: string, pattern: string): ParsedTag {
  if (typeof tag !== 'string' || typeof pattern !== 'string') return { ok: false, reason: 'not a tag name' };
  const prefix = literalPrefix(pattern);
  let rest = tag.startsWith(prefix) ? tag.slice(prefix.length) : tag;
  // One `v` at most: the pattern's own (`v*`) or the tag's (`*` over `v1.2.3`).
  if (!/[vV]$/.test(prefix) && /^[vV]\d/.test(rest)) rest = rest.slice(1);
  const match = SEMVER.exec(rest);
  if (!match) return { ok: false, reason: whyNotSemver(tag, rest) };
  return {
    ok: true,
    version: { major: match[1]!, minor: match[2]!, patch: match[3]!, prerelease: match[4]?.split('.') ?? [], build: match[5]?.split('.') ?? [] },
  };
}

function whyNotSemver(tag: string, rest: string): string {
  const shown = JSON.stringify(tag.slice(0, 100));
  if (/^\d+(\.\d+)?$/.test(rest)) return `tag ${shown} is not a semantic version: it needs MAJOR.MINOR.PATCH (e.g. ${rest.split('.').concat('0', '0').slice(0, 3).join('.')})`;
  if (/(^|\.)0\d/.test(rest.split(/[-+]/)[0] ?? '')) return `tag ${shown} is not a semantic version: a number part has a leading zero`;
  return `tag ${shown} is not a semantic version (MAJOR.MINOR.PATCH, optionally -pre.release and +build, as semver.org has it)`;
}

/** Compares two numeric identifiers of any length (no leading zeros, so the longer is larger). */
function compareNumeric(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePrereleaseId(a: string, b: string): number {
  const aNum = /^\d+$/.test(a);
  const bNum = /^\d+$/.test(b);
  if (aNum && bNum) return compareNumeric(a, b);
  // Numeric identifiers always have lower precedence than alphanumeric ones.
  if (aNum !== bNum) return aNum ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Semantic-version precedence: negative when `a` comes before `b`, 0 when equal (build metadata ignored). */
export function compareSemanticVersions(a: SemanticVersion, b: SemanticVersion): number {
  for (const key of ['major', 'minor', 'patch'] as const) {
    const d = compareNumeric(a[key], b[key]);
    if (d !== 0) return d;
  }
  // A pre-release comes before its release: 1.0.0-rc.1 < 1.0.0.
  if (!a.prerelease.length || !b.prerelease.length) return (b.prerelease.length ? 1 : 0) - (a.prerelease.length ? 1 : 0);
  for (let i = 0; i < Math.min(a.prerelease.length, b.prerelease.length); i += 1) {
    const d = comparePrereleaseId(a.prerelease[i]!, b.prerelease[i]!);
    if (d !== 0) return d;
  }
  return Math.sign(a.prerelease.length - b.prerelease.length);
}

/** The version as semver.org writes it (without the tag's prefix). */
export function formatVersion(v: SemanticVersion): string {
  return `${v.major}.${v.minor}.${v.patch}${v.prerelease.length ? `-${v.prerelease.join('.')}` : ''}${v.build.length ? `+${v.build.join('.')}` : ''}`;
}

/** The tag name of a `refs/tags/<tag>` ref, or null for any other ref. */
export function tagOfRef(ref: string | null | undefined): string | null {
  return ref?.startsWith('refs/tags/') ? ref.slice('refs/tags/'.length) : null;
}
