// The drift watch's comparison: the last deploy's manifest against the host's listing, decided
// without a host. What a homeowner relies on: an edit or a deletion of a deployed file is reported,
// a new file beside deployed ones is reported, HA's own files at the root are not, and a protected
// path never is, whatever the manifest or the host hold.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FileEntry } from '../../relay/pipeline/manifest.ts';
import { globMatcher } from '../../relay/pipeline/path-safety.ts';
import { isProtected } from '../../relay/pipeline/protected-paths.ts';
import { compareWithManifest, deployedFolders, hashSelection, type DriftRules, type ListedFile } from '../../relay/watch/drift-comparison.ts';
import { file, files, sha256, symlink } from '../support/file-entries.ts';

const RULES: DriftRules = { isProtected: (p) => isProtected(p), isLeftOut: () => false };

function listed(entries: FileEntry[]): ListedFile[] {
  return entries.map((e) => ({ path: e.path, type: e.type, size: e.size, sha256: e.sha256 }));
}

const DEPLOYED = files({
  'configuration.yaml': 'default_config:\n',
  'automations.yaml': '- id: porch\n',
  'packages/garden.yaml': 'input_boolean: {}\n',
  'packages/lights/hall.yaml': 'light: []\n',
});

describe('drift comparison', () => {
  it('an unchanged host has no drift, whatever else Home Assistant keeps', () => {
    const haOwn = files({ '.HA_VERSION': '2026.11.1', 'secrets.yaml': 'k: v', 'known_devices.yaml': 'x', 'zigbee.db': 'db' });
    expect(compareWithManifest(DEPLOYED, listed([...DEPLOYED, ...haOwn]), RULES)).toEqual([]);
  });

  it('reports a deployed file edited, one deleted, and one added beside deployed files', () => {
    const live = [file('configuration.yaml', 'default_config:\n'), file('automations.yaml', '- id: porch\n- id: new\n'), ...DEPLOYED.slice(3), file('packages/pool.yaml', 'pump: {}\n')];
    const drift = compareWithManifest(DEPLOYED, listed(live), RULES);
    expect(drift.map((d) => [d.path, d.change])).toEqual([
      ['automations.yaml', 'modified'],
      ['packages/garden.yaml', 'deleted'],
      ['packages/pool.yaml', 'added'],
    ]);
  });

  it('a file added at the root, or in a folder Lanyard never deployed to, is not drift', () => {
    const live = [...DEPLOYED, file('ip_bans.yaml', 'x'), file('new-root.yaml', 'x'), file('custom_components/hacs/__init__.py', 'x'), file('packages/other/x.yaml', 'x')];
    expect(compareWithManifest(DEPLOYED, listed(live), RULES)).toEqual([]);
  });

  it('a protected or excluded file in a deployed folder is never reported, nor selected for hashing', () => {
    const rules: DriftRules = { isProtected: (p) => isProtected(p, ['packages/private.yaml']), isLeftOut: globMatcher(['**/*.bak']) };
    const live = [...DEPLOYED, file('packages/secrets.yaml', 'pw: 1'), file('packages/private.yaml', 'x'), file('packages/old.bak', 'x'), file('packages/home-assistant.log', 'x')];
    expect(compareWithManifest(DEPLOYED, listed(live), rules)).toEqual([]);
    const select = hashSelection(DEPLOYED, rules);
    expect(['packages/secrets.yaml', 'packages/private.yaml', 'packages/old.bak', 'secrets.yaml', '.storage/auth'].filter(select)).toEqual([]);
    expect(['automations.yaml', 'packages/garden.yaml', 'packages/new.yaml'].filter(select)).toEqual(['automations.yaml', 'packages/garden.yaml', 'packages/new.yaml']);
  });

  it('a deployed file that became protected (the owner protected it since) is not read or reported', () => {
    const rules: DriftRules = { isProtected: (p) => isProtected(p, ['automations.yaml']), isLeftOut: () => false };
    const live = listed(DEPLOYED.map((f) => (f.path === 'automations.yaml' ? file(f.path, 'changed in the UI') : f)));
    expect(compareWithManifest(DEPLOYED, live, rules)).toEqual([]);
    expect(hashSelection(DEPLOYED, rules)('automations.yaml')).toBe(false);
  });

  it('a file replaced by a link, or a link retargeted, is modified; a mode change alone is not drift', () => {
    const manifest = [file('www/a.txt', 'a'), symlink('www/b', 'a.txt'), file('www/run.sh', '#!/bin/sh\n', 0o755)];
    const live = [symlink('www/a.txt', 'elsewhere'), symlink('www/b', 'c.txt'), file('www/run.sh', '#!/bin/sh\n', 0o644)];
    expect(compareWithManifest(manifest, listed(live), RULES).map((d) => [d.path, d.change])).toEqual([
      ['www/a.txt', 'modified'],
      ['www/b', 'modified'],
    ]);
  });

  it('the folders Lanyard deploys to are those holding a deployed file, never the root', () => {
    expect([...deployedFolders(DEPLOYED)].sort()).toEqual(['packages', 'packages/lights']);
  });

  it('property: drift is exactly the deployed files that differ or vanished and the new files beside them, in path order, never protected', () => {
    const segment = fc.constantFrom('packages', 'www', 'esphome', '.storage', 'a', 'b');
    const name = fc.constantFrom('x.yaml', 'y.yaml', 'secrets.yaml', 'z.db', 'notes.log', 'automations.yaml');
    const path = fc.tuple(fc.array(segment, { maxLength: 2 }), name).map(([folders, leaf]) => [...folders, leaf].join('/'));
    const content = fc.constantFrom('one', 'two', 'three');
    const listing = fc.uniqueArray(fc.tuple(path, content), { selector: ([p]) => p, maxLength: 14 });
    fc.assert(
      fc.property(listing, listing, (deployedList, liveList) => {
        const manifest = deployedList.map(([p, c]) => file(p, c));
        const live = liveList.map(([p, c]) => file(p, c));
        const drift = compareWithManifest(manifest, listed(live), RULES);
        const liveByPath = new Map(live.map((f) => [f.path, f]));
        const deployedPaths = new Set(manifest.map((f) => f.path));
        const folders = deployedFolders(manifest);
        const expected: Array<[string, string]> = [];
        for (const entry of manifest) {
          if (isProtected(entry.path)) continue;
          const now = liveByPath.get(entry.path);
          if (!now) expected.push([entry.path, 'deleted']);
          else if (now.sha256 !== entry.sha256) expected.push([entry.path, 'modified']);
        }
        for (const entry of live) {
          const folder = entry.path.includes('/') ? entry.path.slice(0, entry.path.lastIndexOf('/')) : '';
          if (!deployedPaths.has(entry.path) && folder && folders.has(folder) && !isProtected(entry.path)) expected.push([entry.path, 'added']);
        }
        expected.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        expect(drift.map((d) => [d.path, d.change])).toEqual(expected);
        // Never a protected path, and every finding's content is what it claims to be.
        for (const d of drift) {
          expect(isProtected(d.path)).toBe(false);
          if (d.change !== 'added') expect(d.deployed?.sha256).toBe(manifest.find((f) => f.path === d.path)?.sha256);
          if (d.change !== 'deleted') expect(d.live?.sha256).toBe(sha256(liveList.find(([p]) => p === d.path)![1]));
        }
      }),
      { numRuns: 500 },
    );
  });
});
