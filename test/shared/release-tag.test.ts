// Release tags: the glob a `{ type: "tag" }` trigger matches, and the semantic-version order in
// which tags deploy (semver.org 2.0.0), with the edge cases an owner's tags actually have.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareSemanticVersions, formatVersion, literalPrefix, parseReleaseTag, tagMatches, tagOfRef, type SemanticVersion } from '../../shared/release-tag.ts';

function version(tag: string, pattern = 'v*'): SemanticVersion {
  const parsed = parseReleaseTag(tag, pattern);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.version;
}

const order = (a: string, b: string, pattern = 'v*') => Math.sign(compareSemanticVersions(version(a, pattern), version(b, pattern)));

describe('which tags a trigger matches', () => {
  it('v* matches v-tags, not other tags, and * stops at a slash as in GitHub tag filters', () => {
    expect(tagMatches('v*', 'v1.0.0')).toBe(true);
    expect(tagMatches('v*', 'v1.10.0-rc.1+build.5')).toBe(true);
    expect(tagMatches('v*', 'release-1.0.0')).toBe(false);
    expect(tagMatches('v*', 'x/v1.0.0')).toBe(false);
    expect(tagMatches('v*', 'v1/hotfix')).toBe(false);
    expect(tagMatches('ha/**', 'ha/v1/hotfix')).toBe(true);
    expect(tagMatches('v?.?.?', 'v1.2.3')).toBe(true);
    expect(tagMatches('v?.?.?', 'v1.22.3')).toBe(false);
  });

  it('dots and dashes in a pattern are literal, not regular-expression characters', () => {
    expect(tagMatches('v1.*', 'v1x2')).toBe(false);
    expect(tagMatches('v1.*', 'v1.2')).toBe(true);
    expect(tagMatches('release-*', 'release-2024')).toBe(true);
  });

  it('the literal prefix is what comes before the first wildcard', () => {
    expect(literalPrefix('v*')).toBe('v');
    expect(literalPrefix('release-*')).toBe('release-');
    expect(literalPrefix('*')).toBe('');
    expect(literalPrefix('ha/v?.*')).toBe('ha/v');
  });
});

describe('semantic-version order of release tags', () => {
  it('v1.10.0 comes after v1.9.0 (numbers, not text)', () => {
    expect(order('v1.10.0', 'v1.9.0')).toBe(1);
    expect(order('v2.0.0', 'v1.99.99')).toBe(1);
    expect(order('v1.0.10', 'v1.0.9')).toBe(1);
  });

  it('a pre-release comes before its release, and pre-releases order by their identifiers', () => {
    // semver.org's own example, in order.
    const chain = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0'];
    for (let i = 0; i + 1 < chain.length; i += 1) expect(order(`v${chain[i]}`, `v${chain[i + 1]}`), `${chain[i]} < ${chain[i + 1]}`).toBe(-1);
    expect(order('v1.0.0-rc.1', 'v1.0.0')).toBe(-1);
    // Numeric identifiers compare as numbers and come before alphanumeric ones.
    expect(order('v1.0.0-rc.10', 'v1.0.0-rc.9')).toBe(1);
    expect(order('v1.0.0-1', 'v1.0.0-a')).toBe(-1);
  });

  it('build metadata is kept but never orders', () => {
    expect(order('v1.0.0+build.1', 'v1.0.0+build.2')).toBe(0);
    expect(formatVersion(version('v1.0.0-rc.1+sha.5114f85'))).toBe('1.0.0-rc.1+sha.5114f85');
  });

  it('numbers larger than JavaScript counts exactly still order right', () => {
    expect(order('v1.0.90071992547409931', 'v1.0.90071992547409930')).toBe(1);
  });

  it('the prefix is the pattern\'s literal prefix, then one optional v (one v at most)', () => {
    expect(formatVersion(version('release-1.2.3', 'release-*'))).toBe('1.2.3');
    expect(formatVersion(version('v1.2.3', '*'))).toBe('1.2.3');
    expect(formatVersion(version('1.2.3', '*'))).toBe('1.2.3');
  });

  it('non-semver tags are named with the reason', () => {
    const reasons = ['v1.2', 'v01.2.3', 'latest', 'v2024-06-01', 'v1.0.0-', 'v1.0.0-rc..1', 'v1.0.0-01', 'vv1.0.0'].map((t) => [t, parseReleaseTag(t, 'v*')] as const);
    for (const [tag, parsed] of reasons) expect(parsed.ok, tag).toBe(false);
    expect(parseReleaseTag('v1.2', 'v*')).toEqual({ ok: false, reason: 'tag "v1.2" is not a semantic version: it needs MAJOR.MINOR.PATCH (e.g. 1.2.0)' });
    expect(parseReleaseTag('v01.2.3', 'v*')).toEqual({ ok: false, reason: 'tag "v01.2.3" is not a semantic version: a number part has a leading zero' });
    expect(parseReleaseTag('latest', '*')).toMatchObject({ ok: false, reason: expect.stringContaining('not a semantic version') });
  });

  it('the tag of a ref', () => {
    expect(tagOfRef('refs/tags/v1.0.0')).toBe('v1.0.0');
    expect(tagOfRef('refs/heads/main')).toBeNull();
    expect(tagOfRef(null)).toBeNull();
  });
});

const numeric = fc.oneof(fc.constant('0'), fc.bigInt({ min: 1n, max: 10n ** 25n }).map(String), fc.integer({ min: 0, max: 12 }).map(String));
const identifier = fc.oneof(numeric, fc.stringMatching(/^[0-9a-zA-Z-]{0,3}[a-zA-Z-][0-9a-zA-Z-]{0,3}$/));
const semver = fc
  .record({ major: numeric, minor: numeric, patch: numeric, prerelease: fc.array(identifier, { maxLength: 3 }), build: fc.array(fc.stringMatching(/^[0-9a-zA-Z-]{1,4}$/), { maxLength: 2 }) })
  .map((v): SemanticVersion => v);

describe('properties of the order', () => {
  it('every version written out parses back to itself', () => {
    fc.assert(fc.property(semver, (v) => {
        expect(version(`v${formatVersion(v)}`)).toEqual(v);
      }));
  });

  it('is antisymmetric: a < b exactly when b > a, and equal both ways', () => {
    fc.assert(fc.property(semver, semver, (a, b) => Math.sign(compareSemanticVersions(a, b)) === -Math.sign(compareSemanticVersions(b, a))));
  });

  it('is transitive', () => {
    fc.assert(
      fc.property(semver, semver, semver, (a, b, c) => {
        const [x, y, z] = [a, b, c].sort(compareSemanticVersions) as [SemanticVersion, SemanticVersion, SemanticVersion];
        return compareSemanticVersions(x, y) <= 0 && compareSemanticVersions(y, z) <= 0 && compareSemanticVersions(x, z) <= 0;
      }),
    );
  });

  it('garbage never throws: any text is a version or a reason', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ maxLength: 20 }), (tag, pattern) => {
        const parsed = parseReleaseTag(tag, pattern);
        if (!parsed.ok) expect(parsed.reason.length).toBeGreaterThan(0);
        tagMatches(pattern, tag);
      }),
    );
  });
});
