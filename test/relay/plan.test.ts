// The deploy plan: what a push would write, delete, skip or refuse on the host, decided from the
// commit's files, the host's live hashes and the previous manifest, before anything is touched.
import { describe, expect, it } from 'vitest';
import { decideActivation } from '../../relay/pipeline/activation-map.ts';
import type { FileEntry } from '../../relay/pipeline/manifest.ts';
import { DriftDetected, PathsRefused, planDeployment, type PlanInput } from '../../relay/pipeline/plan.ts';
import { isProtected } from '../../relay/pipeline/protected-paths.ts';
import { COMMIT_A, COMMIT_B, file, files, manifestOf, symlink } from '../support/file-entries.ts';

const HOUSE = {
  'configuration.yaml': 'default_config:\nautomation: !include automations.yaml\n',
  'automations.yaml': '- id: porch\n  alias: Porch light at sunset\n',
  'scripts.yaml': 'goodnight:\n  sequence: []\n',
};

/** A host where the previous deploy (COMMIT_A) wrote `deployed`, plus HA's own files. */
function deployedHouse(deployed: Record<string, string> = HOUSE) {
  const entries = files(deployed);
  const haOwn = files({ '.storage/core.entity_registry': '{}', 'secrets.yaml': 'wifi: hunter2', '.HA_VERSION': '2026.4.1' });
  return { previousManifest: manifestOf(entries), liveFiles: [...entries, ...haOwn] };
}

function plan(overrides: Partial<PlanInput> & Pick<PlanInput, 'commitFiles'>) {
  return planDeployment({
    commitSha: COMMIT_B,
    liveFiles: [],
    previousManifest: null,
    driftPolicy: 'stop',
    deployedAt: 1_800_000_000_000,
    ...overrides,
  });
}

const paths = (entries: readonly FileEntry[]) => entries.map((e) => e.path);

describe('a push to an already deployed host', () => {
  it('writes only the changed file, and that needs only a reload', () => {
    const commit = files({ ...HOUSE, 'automations.yaml': `${HOUSE['automations.yaml']}- id: night\n  alias: Night mode\n` });
    const result = plan({ commitFiles: commit, ...deployedHouse() });

    expect(result.error).toBeNull();
    expect(paths(result.toWrite)).toEqual(['automations.yaml']);
    expect(result.toDelete).toEqual([]);
    expect(result.unchanged).toEqual(['configuration.yaml', 'scripts.yaml']);
    expect(result.mustBackup).toEqual(['automations.yaml']);

    const activation = decideActivation(paths(result.toWrite), result.toDelete);
    expect(activation).toMatchObject({ activation: 'reload', reloadDomains: ['automation'] });
  });

  it('needs a restart when configuration.yaml changes', () => {
    const commit = files({ ...HOUSE, 'configuration.yaml': `${HOUSE['configuration.yaml']}sensor: !include sensors.yaml\n` });
    const result = plan({ commitFiles: commit, ...deployedHouse() });

    expect(paths(result.toWrite)).toEqual(['configuration.yaml']);
    expect(decideActivation(paths(result.toWrite), result.toDelete).activation).toBe('restart');
  });

  it('deletes a file the last deploy wrote and this commit removed', () => {
    const { ['scripts.yaml']: _removed, ...rest } = HOUSE;
    const result = plan({ commitFiles: files(rest), ...deployedHouse() });

    expect(result.toDelete).toEqual(['scripts.yaml']);
    expect(result.mustBackup).toEqual(['scripts.yaml']);
    expect(paths(result.manifest.files)).toEqual(['automations.yaml', 'configuration.yaml']);
  });

  it('never deletes host files Lanyard did not deploy', () => {
    const host = deployedHouse();
    host.liveFiles.push(file('notes-on-the-host.txt', 'added by hand'), file('scenes.yaml', '[]'));
    const result = plan({ commitFiles: files(HOUSE), ...host });

    expect(result.toDelete).toEqual([]);
    expect(result.toWrite).toEqual([]);
    expect(paths(result.manifest.files)).not.toContain('notes-on-the-host.txt');
  });

  it('has nothing to delete when a removed file is already gone from the host', () => {
    const { ['scripts.yaml']: _removed, ...rest } = HOUSE;
    const host = deployedHouse();
    host.liveFiles = host.liveFiles.filter((f) => f.path !== 'scripts.yaml');
    const result = plan({ commitFiles: files(rest), ...host });

    expect(result.error).toBeNull();
    expect(result.toDelete).toEqual([]);
    expect(result.drift).toEqual([]);
  });

  it('records the new commit in the manifest, files sorted', () => {
    const result = plan({ commitFiles: files({ 'z.yaml': 'z: 1', ...HOUSE }), ...deployedHouse() });
    expect(result.manifest.sha).toBe(COMMIT_B);
    expect(result.manifest.deployedAt).toBe(1_800_000_000_000);
    expect(paths(result.manifest.files)).toEqual(['automations.yaml', 'configuration.yaml', 'scripts.yaml', 'z.yaml']);
  });

  it('compares only the executable bit, so a host umask does not rewrite every file', () => {
    const commit = [file('configuration.yaml', 'a: 1'), file('run.sh', 'echo hi', 0o755)];
    const live = [file('configuration.yaml', 'a: 1', 0o664), file('run.sh', 'echo hi', 0o644)];
    const result = plan({ commitFiles: commit, liveFiles: live, previousManifest: manifestOf(live) });

    expect(result.unchanged).toEqual(['configuration.yaml']);
    expect(paths(result.toWrite)).toEqual(['run.sh']);
  });
});

describe('protected paths', () => {
  it('does not write a secrets.yaml the repository contains, and says so', () => {
    const result = plan({ commitFiles: files({ ...HOUSE, 'secrets.yaml': 'wifi: placeholder' }), ...deployedHouse() });

    expect(paths(result.toWrite)).not.toContain('secrets.yaml');
    expect(result.skippedProtected).toEqual([{ path: 'secrets.yaml', reason: expect.stringContaining('passwords') }]);
    expect(paths(result.manifest.files)).not.toContain('secrets.yaml');
  });

  it.each([
    '.storage/core.config_entries',
    'home-assistant_v2.db',
    'home-assistant_v2.db-wal',
    'zigbee.db-shm',
    'data/x.db-wal',
    'home-assistant.log',
    'home-assistant.log.1',
    'esphome/secrets.yaml',
    '.cloud/remote',
    '.HA_VERSION',
    'deps/lib/x.py',
    'tts/cache.mp3',
    'backups/a.tar',
    '.git/config',
    'custom_components/x/__pycache__/y.pyc',
  ])('never writes %s', (path) => {
    expect(isProtected(path, [])).toBe(true);
    const result = plan({ commitFiles: [file(path, 'from the repo')] });
    expect(result.toWrite).toEqual([]);
    expect(paths(result.manifest.files)).toEqual([]);
  });

  it.each(['automations.yaml', 'packages/db.yaml', 'www/database.json', 'blog.md'])('deploys %s', (path) => {
    expect(isProtected(path, [])).toBe(false);
  });

  it('protects the globs the host owner adds', () => {
    const result = plan({ commitFiles: files({ 'zigbee2mqtt/configuration.yaml': 'x', 'automations.yaml': 'y' }), protect: ['zigbee2mqtt/'] });
    expect(paths(result.toWrite)).toEqual(['automations.yaml']);
    expect(result.skippedProtected.map((s) => s.path)).toEqual(['zigbee2mqtt/configuration.yaml']);
  });

  it('releases a deployed file that became protected instead of deleting it', () => {
    const result = plan({ commitFiles: files(HOUSE), ...deployedHouse(), protect: ['scripts.yaml'] });
    expect(result.toDelete).toEqual([]);
    expect(result.released).toEqual(['scripts.yaml']);
  });
});

describe('drift: files changed on the host since the last deploy', () => {
  function editedOnHost(policy: PlanInput['driftPolicy']) {
    const host = deployedHouse();
    host.liveFiles = host.liveFiles.map((f) => (f.path === 'automations.yaml' ? file('automations.yaml', '- id: made_in_the_ui\n') : f));
    host.liveFiles = host.liveFiles.filter((f) => f.path !== 'scripts.yaml');
    const commit = files({ ...HOUSE, 'configuration.yaml': `${HOUSE['configuration.yaml']}# tidy\n` });
    return plan({ commitFiles: commit, ...host, driftPolicy: policy });
  }

  it('stops by default, naming the files', () => {
    const result = editedOnHost('stop');

    expect(result.error).toBeInstanceOf(DriftDetected);
    expect(result.error?.code).toBe('DriftDetected');
    expect(String(result.error)).toBe(
      'DriftDetected: 2 files changed on the host since the last deploy: automations.yaml, scripts.yaml (deleted on the host). ' +
        'Nothing was written. Ways on, from the status page or the API: capture these edits into a pull request, overwrite them for this deployment ' +
        '(the host\'s versions are backed up first), or keep the host\'s versions of these files for this deployment.',
    );
    expect(result.drift).toEqual([
      { path: 'automations.yaml', change: 'modified', deployWants: 'write', action: 'stop' },
      { path: 'scripts.yaml', change: 'deleted', deployWants: 'write', action: 'stop' },
    ]);
  });

  it('overwrites drifted files after backing them up under the overwrite policy', () => {
    const result = editedOnHost('overwrite');

    expect(result.error).toBeNull();
    expect(paths(result.toWrite)).toEqual(['automations.yaml', 'configuration.yaml', 'scripts.yaml']);
    expect(result.mustBackup).toEqual(['automations.yaml', 'configuration.yaml']);
    expect(result.drift.map((d) => d.action)).toEqual(['overwrite', 'overwrite']);
  });

  it('deploys the rest but keeps the host\'s versions under report-only, and reports them again next time', () => {
    const result = editedOnHost('report-only');

    expect(result.error).toBeNull();
    expect(paths(result.toWrite)).toEqual(['configuration.yaml']);
    expect(result.drift.map((d) => [d.path, d.action])).toEqual([
      ['automations.yaml', 'keep'],
      ['scripts.yaml', 'keep'],
    ]);
    // The manifest still holds what Lanyard wrote, so the host's edit stays visible as drift.
    const kept = result.manifest.files.find((f) => f.path === 'automations.yaml');
    expect(kept).toEqual(file('automations.yaml', HOUSE['automations.yaml']));

    // The host after that deploy: configuration.yaml written, the UI's automations.yaml kept.
    const liveAfter = [file('configuration.yaml', `${HOUSE['configuration.yaml']}# tidy\n`), file('automations.yaml', '- id: made_in_the_ui\n')];
    const again = plan({
      commitFiles: files({ ...HOUSE, 'configuration.yaml': `${HOUSE['configuration.yaml']}# tidy\n` }),
      previousManifest: result.manifest,
      liveFiles: liveAfter,
      driftPolicy: 'stop',
    });
    expect(again.drift.map((d) => [d.path, d.change])).toEqual([
      ['automations.yaml', 'modified'],
      ['scripts.yaml', 'deleted'],
    ]);
  });

  it('is not drift when the host edit already equals the commit', () => {
    const newAutomations = '- id: same_edit_both_sides\n';
    const host = deployedHouse();
    host.liveFiles = host.liveFiles.map((f) => (f.path === 'automations.yaml' ? file('automations.yaml', newAutomations) : f));
    const result = plan({ commitFiles: files({ ...HOUSE, 'automations.yaml': newAutomations }), ...host });

    expect(result.error).toBeNull();
    expect(result.drift).toEqual([]);
    expect(result.unchanged).toContain('automations.yaml');
  });

  it('stops before deleting a file the host edited', () => {
    const { ['scripts.yaml']: _removed, ...rest } = HOUSE;
    const host = deployedHouse();
    host.liveFiles = host.liveFiles.map((f) => (f.path === 'scripts.yaml' ? file('scripts.yaml', 'edited_in_ui: {}') : f));
    const result = plan({ commitFiles: files(rest), ...host });

    expect(result.error?.code).toBe('DriftDetected');
    expect(result.drift).toEqual([{ path: 'scripts.yaml', change: 'modified', deployWants: 'delete', action: 'stop' }]);
  });
});

describe('the first deploy to a host', () => {
  it('adopts identical files, reports and overwrites the ones that differ, and deletes nothing', () => {
    const live = [
      file('configuration.yaml', HOUSE['configuration.yaml']),
      file('automations.yaml', '- id: older_copy\n'),
      file('scenes.yaml', '[]'),
      file('secrets.yaml', 'wifi: hunter2'),
    ];
    const result = plan({ commitFiles: files(HOUSE), liveFiles: live, previousManifest: null });

    expect(result.firstDeploy).toBe(true);
    expect(result.error).toBeNull();
    expect(result.adopted).toEqual(['configuration.yaml']);
    expect(result.adoptDiffers).toEqual(['automations.yaml']);
    expect(paths(result.toWrite)).toEqual(['automations.yaml', 'scripts.yaml']);
    expect(result.mustBackup).toEqual(['automations.yaml']);
    expect(result.toDelete).toEqual([]);
    expect(result.drift).toEqual([]);
    expect(paths(result.manifest.files)).toEqual(['automations.yaml', 'configuration.yaml', 'scripts.yaml']);
  });

  it('reports a new repository file that replaces a host file Lanyard never deployed', () => {
    const host = deployedHouse();
    host.liveFiles.push(file('scenes.yaml', '- name: made in the UI\n'));
    const result = plan({ commitFiles: files({ ...HOUSE, 'scenes.yaml': '[]' }), ...host });
    expect(result.adoptDiffers).toEqual(['scenes.yaml']);
    expect(result.mustBackup).toEqual(['scenes.yaml']);
  });
});

describe('unsafe paths and symlinks', () => {
  it('refuses a path that climbs out of the repository, naming it', () => {
    const result = plan({ commitFiles: [...files(HOUSE), file('../outside.yaml', 'x')] });

    expect(result.error).toBeInstanceOf(PathsRefused);
    expect(result.error?.code).toBe('PathRefused');
    expect(result.error?.message).toContain('../outside.yaml leaves the deployed folder');
    expect(result.refused.map((r) => r.path)).toEqual(['../outside.yaml']);
  });

  it('refuses a symlink that escapes the config folder, naming the link and its target', () => {
    const result = plan({ commitFiles: [symlink('www/passwd', '../../etc/passwd'), symlink('www/shadow', '/etc/shadow')] });

    expect(result.error?.code).toBe('PathRefused');
    expect(result.error?.message).toContain('www/passwd is a symlink to ../../etc/passwd');
    expect(result.error?.message).toContain('www/shadow is a symlink to /etc/shadow, which points outside the config folder /config');
    expect(result.toWrite).toEqual([]);
  });

  it('accepts a symlink to an absolute path inside the config folder', () => {
    const result = plan({ commitFiles: [file('www/floorplan.svg', '<svg/>'), symlink('www/plan.svg', '/config/www/floorplan.svg')] });
    expect(result.error).toBeNull();
    expect(paths(result.toWrite)).toEqual(['www/floorplan.svg', 'www/plan.svg']);
  });

  it('accepts a relative symlink that stays inside, resolved from the link\'s folder', () => {
    const result = plan({ commitFiles: [symlink('packages/shared.yaml', '../common/shared.yaml')] });
    expect(result.error).toBeNull();
  });

  it('refuses a symlink that would publish a protected file', () => {
    const result = plan({ commitFiles: [symlink('www/s.txt', '../secrets.yaml')] });
    expect(result.refused.map((r) => r.problem)).toEqual(['symlink-to-protected']);
  });

  it('checks absolute symlink targets against the configured config root', () => {
    const result = plan({ commitFiles: [symlink('a.yaml', '/homeassistant/b.yaml')], configRoot: '/homeassistant' });
    expect(result.error).toBeNull();
  });

  it('refuses to write beneath a host file or symlink', () => {
    const result = plan({ commitFiles: [file('media/song.mp3', 'x')], liveFiles: [symlink('media', '/media')] });
    expect(result.error?.message).toContain('media/song.mp3 cannot be written: media is a symlink on the host');
  });
});

describe('which files are deployed', () => {
  const repo = files({
    'README.md': '# my house',
    '.github/workflows/check.yaml': 'on: push',
    'ha/configuration.yaml': 'default_config:',
    'ha/automations.yaml': '[]',
    'ha/lanyard.yaml': 'version: 1',
    'ha/esphome/porch.yaml': 'esphome:',
    'ha/www/draft.png': 'png',
  });

  it('deploys only the subfolder, at the config root, without lanyard.yaml', () => {
    const result = plan({ commitFiles: repo, subfolder: 'ha' });
    expect(paths(result.toWrite)).toEqual(['automations.yaml', 'configuration.yaml', 'esphome/porch.yaml', 'www/draft.png']);
    expect(result.excluded).toEqual(['lanyard.yaml']);
  });

  it('applies include and exclude globs', () => {
    const result = plan({ commitFiles: repo, subfolder: 'ha/', include: ['*.yaml', 'www/'], exclude: ['www/draft.*'] });
    expect(paths(result.toWrite)).toEqual(['automations.yaml', 'configuration.yaml']);
    expect(result.excluded.sort()).toEqual(['esphome/porch.yaml', 'lanyard.yaml', 'www/draft.png']);
  });

  it('refuses a subfolder setting that leaves the repository, deploying nothing', () => {
    const result = plan({ commitFiles: repo, subfolder: '../elsewhere' });
    expect(result.error?.message).toContain('the subfolder setting: ../elsewhere leaves the deployed folder');
    expect(result.toWrite).toEqual([]);
  });

  it('lets the repository narrow the host\'s include list but never widen it', () => {
    const result = plan({ commitFiles: repo, subfolder: 'ha', include: ['*.yaml'], repoInclude: ['automations.yaml', 'esphome/**'] });
    expect(paths(result.toWrite)).toEqual(['automations.yaml']);
  });

  it('releases a deployed file that is now excluded instead of deleting it', () => {
    const result = plan({ commitFiles: files(HOUSE), ...deployedHouse(), exclude: ['automations.yaml'] });
    expect(result.toDelete).toEqual([]);
    expect(result.released).toEqual(['automations.yaml']);
    expect(paths(result.manifest.files)).toEqual(['configuration.yaml', 'scripts.yaml']);
  });
});

describe('a large configuration', () => {
  it('plans 5,000 files', () => {
    const commit: FileEntry[] = [];
    for (let i = 0; i < 5000; i++) commit.push(file(`packages/area_${i % 50}/device_${i}.yaml`, `sensor_${i}: ${i}\n`));
    const live = commit.map((f, i) => (i % 100 === 0 ? file(f.path, `changed ${i}\n`) : f));
    const result = plan({ commitFiles: commit, liveFiles: live, previousManifest: manifestOf(commit, COMMIT_A), driftPolicy: 'overwrite' });

    expect(result.unchanged.length).toBe(4950);
    expect(result.drift.length).toBe(50);
    expect(result.toWrite.length).toBe(50);
    expect(result.manifest.files.length).toBe(5000);
  });
});
