// Repo paths and symlink entries: normalised, or refused with the path (and target) named. Plus the
// manifest's stored form, which must read back exactly and name a damaged field.
import { describe, expect, it } from 'vitest';
import { parseManifest, serializeManifest } from '../../relay/pipeline/manifest.ts';
import { checkLinkText, normaliseRepoPath, PathRefused } from '../../relay/pipeline/path-safety.ts';
import { COMMIT_A, file, manifestOf, symlink } from '../support/file-entries.ts';

function refusedBy(action: () => unknown): PathRefused {
  try {
    action();
  } catch (error) {
    if (error instanceof PathRefused) return error;
    throw error;
  }
  throw new Error('expected the path to be refused');
}

describe('repository paths', () => {
  it.each([
    ['automations.yaml', 'automations.yaml'],
    ['./packages//kitchen.yaml', 'packages/kitchen.yaml'],
    ['packages/old/../kitchen.yaml', 'packages/kitchen.yaml'],
    ['www/', 'www'],
  ])('normalises %s to %s', (raw, normal) => {
    expect(normaliseRepoPath(raw)).toBe(normal);
  });

  it.each([
    ['../secrets.yaml', 'escapes-root', '../secrets.yaml leaves the deployed folder through ".."'],
    ['packages/../../etc/passwd', 'escapes-root', 'packages/../../etc/passwd leaves the deployed folder'],
    ['/etc/passwd', 'absolute', '/etc/passwd is an absolute path'],
    ['www\\evil.js', 'backslash', 'www\\evil.js contains a backslash'],
    ['bad\nname.yaml', 'control-character', '"bad\\nname.yaml" contains a control character'],
    ['nul\u0000.yaml', 'control-character', '"nul\\u0000.yaml" contains a control character'],
    ['.', 'empty', '"." names the deployed folder itself'],
  ])('refuses %j', (raw, problem, message) => {
    const error = refusedBy(() => normaliseRepoPath(raw));
    expect(error.problem).toBe(problem);
    expect(error.message).toContain(message);
    expect(String(error)).toMatch(/^PathRefused: /);
  });
});

describe('symlink entries', () => {
  it('keeps a link\'s target text as it is', () => {
    expect(checkLinkText('www/a.svg', '../media/a.svg')).toBe('../media/a.svg');
  });

  it('refuses a link with no target, or with a control character in it, naming the link', () => {
    expect(refusedBy(() => checkLinkText('www/a', '')).what).toBe('www/a is a symlink with no target');
    expect(refusedBy(() => checkLinkText('www/a', 'x\ny')).what).toBe('www/a is a symlink whose target "x\\ny" contains a control character');
  });
});

describe('the manifest', () => {
  const manifest = manifestOf([file('scripts.yaml', 's'), symlink('www/a.svg', 'b.svg'), file('automations.yaml', 'a', 0o755)]);

  it('reads back what it wrote, in a stable order', () => {
    const text = serializeManifest(manifest);
    const parsed = parseManifest(text);
    expect(parsed.ok && parsed.value.files.map((f) => f.path)).toEqual(['automations.yaml', 'scripts.yaml', 'www/a.svg']);
    expect(parsed.ok && serializeManifest(parsed.value)).toBe(text);
    expect(text.split('\n')[4]).toMatch(/^ {4}\{"path":"automations\.yaml","type":"file","mode":493,"size":1,"sha256":"[0-9a-f]{64}"\},$/);
  });

  it('names the damaged field', () => {
    const damaged = JSON.parse(serializeManifest(manifest)) as { files: { sha256: string }[] };
    damaged.files[1]!.sha256 = 'not-a-hash';
    const parsed = parseManifest(JSON.stringify(damaged));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.field).toBe('files[1].sha256');
    expect(String(parsed.error)).toBe('ManifestInvalid: files[1].sha256: expected 64 lowercase hex characters');
  });

  it('refuses paths that are not normalised, and text that is not JSON', () => {
    const parsed = parseManifest(JSON.stringify({ sha: COMMIT_A, deployedAt: 1, files: [{ ...file('../x', 'x') }] }));
    expect(!parsed.ok && parsed.error.field).toBe('files[0].path');
    const garbage = parseManifest('{"sha": ');
    expect(!garbage.ok && garbage.error.message).toMatch(/^the manifest is not valid JSON/);
  });
});
