// What a backup may hold and a restore may write: the deploy's protected paths and path guard,
// applied to the backup's list of files and to whatever an archive (old, or tampered with on the
// host) lists. Examples first, then generated archives: whatever the names, nothing selected is
// protected, leaves the config folder, or lies under a link.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acceptStaged, backupablePaths, selectRestore, type ArchiveEntry } from '../../relay/pipeline/archive-rules.ts';
import { normaliseRepoPath } from '../../relay/pipeline/path-safety.ts';
import { isProtected } from '../../relay/pipeline/protected-paths.ts';
import { file, symlink } from '../support/file-entries.ts';

const NO_HOST = { files: [], unhashed: [] };
const entry = (name: string, kind: ArchiveEntry['kind'] = 'file'): ArchiveEntry => ({ name, kind });

describe('what a backup holds', () => {
  it('leaves out every protected path of a full-scope list, the owner\'s globs included, and says why', () => {
    const { kept, skipped } = backupablePaths(
      ['configuration.yaml', 'secrets.yaml', 'esphome/secrets.yaml', 'esphome/porch.yaml', 'ip_bans.yaml', '.uuid', 'zigbee2mqtt/state.json', 'www/a.png'],
      ['zigbee2mqtt/**'],
    );
    expect(kept).toEqual(['configuration.yaml', 'esphome/porch.yaml', 'www/a.png']);
    expect(skipped).toEqual([
      { path: 'secrets.yaml', why: 'protected (secrets.yaml (any folder))' },
      { path: 'esphome/secrets.yaml', why: 'protected (secrets.yaml (any folder))' },
      { path: 'ip_bans.yaml', why: 'protected (ip_bans.yaml)' },
      { path: '.uuid', why: 'protected (.uuid)' },
      { path: 'zigbee2mqtt/state.json', why: 'protected by the configured glob zigbee2mqtt/**' },
    ]);
  });
});

describe('what a restore extracts', () => {
  it('skips protected names, names that leave the folder, links between entries and kinds Lanyard never archives, naming each', () => {
    const selection = selectRestore(
      [
        entry('./scripts.yaml'),
        entry('./secrets.yaml'),
        entry('./esphome/secrets.yaml'),
        entry('./ip_bans.yaml'),
        entry('../outside'),
        entry('./www/../../outside'),
        entry('/etc/cron.d/evil'),
        entry('./www/', 'folder'),
        entry('./www/x', 'symlink'),
        entry('./www/x/auth'),
        entry('./h', 'hard link'),
        entry('./dev', 'other'),
        entry('./twice'),
        entry('./twice'),
        entry('--directory=..'),
        entry('./www/ok.txt'),
      ],
      ['added.yaml', 'secrets.yaml', '../x'],
      NO_HOST,
      [],
    );
    expect(selection.extract).toEqual([
      { name: './scripts.yaml', path: 'scripts.yaml' },
      { name: './www/ok.txt', path: 'www/ok.txt' },
    ]);
    expect(selection.remove).toEqual(['added.yaml']);
    expect(Object.fromEntries(selection.skipped.map((s) => [s.path, s.why]))).toEqual({
      'secrets.yaml': 'not deleted: protected (secrets.yaml (any folder))',
      'esphome/secrets.yaml': 'protected (secrets.yaml (any folder))',
      'ip_bans.yaml': 'protected (ip_bans.yaml)',
      '../outside': 'leaves the config folder',
      './www/../../outside': 'leaves the config folder',
      '/etc/cron.d/evil': 'an absolute path',
      'www/x': 'also a folder of other entries in the archive',
      'www/x/auth': 'beneath another entry of the archive',
      h: 'a hard link, which Lanyard never archives',
      dev: 'not a file or a link (a device, a pipe or an unknown kind)',
      twice: 'listed more than once in the archive',
      '--directory=..': 'a name tar would read as an option',
      '../x': 'not deleted: leaves the config folder',
    });
  });

  it('writes and deletes nothing beneath a link or a file on the host', () => {
    const host = { files: [symlink('media', '/media'), file('notes', 'x'), file('www/a.txt', 'a')], unhashed: [] };
    const selection = selectRestore([entry('./media/song.mp3'), entry('./notes/x'), entry('./www/a.txt')], ['media/old.mp3'], host, []);
    expect(selection.extract).toEqual([{ name: './www/a.txt', path: 'www/a.txt' }]);
    expect(selection.skipped).toEqual([
      { path: 'media/song.mp3', why: 'media is a link on the host, not a folder' },
      { path: 'notes/x', why: 'notes is a file on the host, not a folder' },
      { path: 'media/old.mp3', why: 'not deleted: media is a link on the host, not a folder' },
    ]);
  });

  it('moves into place only selected files with one link, and links that stay inside and away from protected data', () => {
    const accepted = acceptStaged(
      ['a.yaml', 'www/plan.svg', 'www/auth', 'www/out', 'www/hard', 'gone.yaml'],
      [
        { path: 'a.yaml', type: 'file', links: 1 },
        { path: 'www/plan.svg', type: 'symlink', links: 1, linkTarget: '../floorplan.svg' },
        { path: 'www/auth', type: 'symlink', links: 1, linkTarget: '../p/y/../.storage/auth' },
        { path: 'www/out', type: 'symlink', links: 1, linkTarget: '/etc/passwd' },
        { path: 'www/hard', type: 'file', links: 2 },
        { path: 'not-selected.yaml', type: 'file', links: 1 },
      ],
      { files: [symlink('p/y', '../t'), file('floorplan.svg', '<svg/>')], unhashed: [] },
      '/config',
      [],
    );
    expect(accepted.write).toEqual(['a.yaml', 'www/plan.svg']);
    expect(accepted.skipped.map((s) => s.path)).toEqual(['www/auth', 'www/out', 'www/hard', 'gone.yaml']);
    expect(accepted.skipped[0]!.why).toBe('a link to ../p/y/../.storage/auth, which reaches .storage, which is protected (following p/y → ../t)');
  });
});

describe('generated archives', () => {
  const segment = fc.constantFrom('.', '..', '', 'a', 'b', 'www', '.storage', 'esphome', 'secrets.yaml', 'ip_bans.yaml', '.uuid', 'x.db', '-rf', 'link');
  const name = fc.tuple(fc.constantFrom('./', '', '/'), fc.array(segment, { minLength: 1, maxLength: 4 })).map(([lead, parts]) => `${lead}${parts.join('/')}`);
  const kind = fc.constantFrom<ArchiveEntry['kind']>('file', 'symlink', 'folder', 'hard link', 'other');
  const hostFile = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));

  it('never selects a protected path, a path outside the folder, a kind other than file or link, or a path under a host link, whatever the names', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ name, kind }), { maxLength: 20 }), fc.array(hostFile, { maxLength: 8 }), fc.array(name, { maxLength: 5 }), (entries, hostPaths, absent) => {
        const host = { files: hostPaths.filter((p) => p.includes('link')).map((p) => symlink(p, '/elsewhere')), unhashed: [] };
        const links = new Set(host.files.map((f) => f.path));
        const selection = selectRestore(entries, absent, host, ['b/**']);
        for (const path of [...selection.extract.map((e) => e.path), ...selection.remove]) {
          expect(normaliseRepoPath(path)).toBe(path);
          expect(isProtected(path, ['b/**'])).toBe(false);
          const parts = path.split('/');
          expect(parts.slice(0, -1).some((_, i) => links.has(parts.slice(0, i + 1).join('/')))).toBe(false);
        }
        for (const picked of selection.extract) {
          const kinds = entries.filter((e) => e.name === picked.name).map((e) => e.kind);
          expect(kinds).toEqual([expect.stringMatching(/^(file|symlink)$/)]);
          // No entry lies beneath it (tar would extract it too), and it lies beneath no other picked
          // entry (a link extracted first would carry it out of the folder).
          const raws = entries.map((e) => e.name.replace(/^\.\//, ''));
          expect(raws.filter((raw) => raw.startsWith(`${picked.path}/`))).toEqual([]);
          expect(selection.extract.filter((other) => picked.path.startsWith(`${other.path}/`))).toEqual([]);
        }
      }),
      { numRuns: 500 },
    );
  });
});
