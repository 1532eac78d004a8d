// The list of protected and host-owned paths is generated from the relay's own lists; a stale copy
// fails the build, and what the page says is protected is what the relay protects.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { UNHASHED_FOLDER_NAMES, UNHASHED_FOLDERS } from '../../relay/pipeline/live-tree.ts';
import { isProtected, PROTECTED_PATHS } from '../../relay/pipeline/protected-paths.ts';
import { protectedPathsReference } from '../../scripts/protected-paths-reference.ts';

describe('docs/protected-paths.md', () => {
  it('is what the relay protects today (run `npm run docs` after changing protected-paths.ts)', async () => {
    const committed = await readFile(new URL('../../docs/protected-paths.md', import.meta.url), 'utf8');
    expect(committed).toBe(protectedPathsReference());
  });

  it('names every built-in protected path and every folder the listing skips, __pycache__/ and .HA_VERSION among them', () => {
    const text = protectedPathsReference();
    for (const entry of PROTECTED_PATHS) {
      expect(text).toContain(`| \`${entry.name}\` |`);
      for (const glob of entry.globs) expect(text).toContain(`\`${glob}\``);
    }
    for (const folder of [...UNHASHED_FOLDERS, ...UNHASHED_FOLDER_NAMES]) expect(text).toContain(`\`${folder}/\``);
    expect(text).toContain('`__pycache__/ (any folder)`');
    expect(text).toContain('`.HA_VERSION`');
  });

  it('every folder the listing skips is protected too, as the page says', () => {
    for (const folder of UNHASHED_FOLDERS) expect(isProtected(`${folder}/x`), folder).toBe(true);
    for (const name of UNHASHED_FOLDER_NAMES) expect(isProtected(`custom_components/x/${name}/y.pyc`), name).toBe(true);
  });
});
