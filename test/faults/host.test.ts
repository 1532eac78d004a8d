// Host faults (issue 9): a backup folder that is full or that the relay's user may not write, a
// config path that is read-only, a file locked by permissions. The host is a real sshd whose test
// user is unprivileged, so chmod and chown really bite; the full disk is a real small tmpfs.
// Each case: the deploy fails before anything is written, with a reason that names what is wrong,
// the host stays byte-identical, Home Assistant shows the reason, and once the fault is lifted
// the same relay deploys the commit.
import { execFile } from 'node:child_process';
import { chmod, chown, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastLanyardNotice, startFaultHouse, type FaultHouse } from '../support/fault-house.ts';
import { waitForDeployment } from '../support/house.ts';

const run = promisify(execFile);
let h: FaultHouse;

beforeAll(async () => {
  h = await startFaultHouse();
}, 180_000);

afterAll(async () => {
  await h?.stop();
});

interface HostFault {
  name: string;
  /** The change the deploy tries to make. */
  files: () => Promise<Record<string, string>>;
  apply(): Promise<void>;
  lift(): Promise<void>;
  reason: RegExp;
}

const withLine = async (path: string, line: string) => `${await readFile(join(h.house.work, path), 'utf8')}${line}\n`;

/** Runs the fault: refused cleanly while it lasts, deployed once it is lifted. */
async function refusedThenDeployed(fault: HostFault): Promise<void> {
  const files = await fault.files();
  await fault.apply();
  // Taken with the fault in place: a chmod is part of the host as the user left it.
  const before = await h.snapshot();
  let lifted = false;
  try {
    const { sha, deployment, steps } = await h.deploy(files, `${fault.name} (while the fault lasts)`);
    expect(deployment.status, JSON.stringify(steps)).toBe('failed');
    expect(deployment.reason).toMatch(fault.reason);
    // Refused before the backup and the upload: nothing was written, so nothing needed a rollback.
    expect(steps.map((s: { step: string }) => s.step)).not.toContain('apply');
    expect(await h.snapshot()).toEqual(before);
    expect(await h.hostOnlyFilesUntouched()).toBe(true);
    // The house says so too, with the same reason.
    const notice = lastLanyardNotice(h.house.ha);
    expect(notice?.title).toBe(`Lanyard: Deploy of ${sha.slice(0, 7)} failed`);
    expect(notice?.message).toContain(deployment.reason.slice(0, 60));

    await fault.lift();
    lifted = true;
    const again = await h.api.post('/deployments/home/deploy', { sha });
    expect(again.status).toBe(202);
    const { deployment: redeployed, steps: redeploySteps } = await waitForDeployment(h.api, again.body.deployment.id, ['succeeded', 'failed', 'rolled_back'], 90_000);
    expect(redeployed.status, JSON.stringify(redeploySteps)).toBe('succeeded');
    for (const [path, content] of Object.entries(files)) expect(await readFile(join(h.house.configRoot, path), 'utf8')).toBe(content);
    expect(await h.hostOnlyFilesUntouched()).toBe(true);
  } finally {
    if (!lifted) await fault.lift();
  }
}

describe('host faults', () => {
  it('a backup folder the relay\'s user may not write: refused, naming the folder', async () => {
    await refusedThenDeployed({
      name: 'Evening scene',
      files: async () => ({ 'scenes.yaml': '- id: evening\n  name: Evening\n  entities: {}\n' }),
      apply: () => chmod(h.house.backupDir, 0o555),
      lift: () => chmod(h.house.backupDir, 0o755),
      reason: new RegExp(`the backup folder ${h.house.backupDir} is not writable by the relay's user`),
    });
  });

  it('a config folder that is read-only: refused before the backup, naming the folder and the file', async () => {
    const packages = join(h.house.configRoot, 'packages');
    const mode = (await stat(packages)).mode & 0o777;
    await refusedThenDeployed({
      name: 'Water the garden longer',
      files: async () => ({ 'packages/garden.yaml': await withLine('packages/garden.yaml', '# water for ten minutes') }),
      apply: () => chmod(packages, 0o555),
      lift: () => chmod(packages, mode),
      reason: new RegExp(
        `the config path ${packages} \\(for packages/garden\\.yaml\\) is read-only for the relay's user on .*, so nothing was written; ` +
          "fix: give the relay's user write access there \\(chown, chmod or setfacl\\), or add `- 'packages/\\*'` to `exclude:` in lanyard\\.yaml \\(or to `deploy\\.exclude` in relay\\.yaml\\) to leave it out of the deploy",
      ),
    });
  });

  it('a config root that is read-only: refused before the backup, naming it', async () => {
    const root = h.house.configRoot;
    const mode = (await stat(root)).mode & 0o777;
    await refusedThenDeployed({
      name: 'Tidy the automations',
      files: async () => ({ 'automations.yaml': await withLine('automations.yaml', '# tidied') }),
      apply: () => chmod(root, 0o555),
      lift: () => chmod(root, mode),
      reason: new RegExp(`the config path ${root} \\(for automations\\.yaml\\) is read-only for the relay's user on .*, so nothing was written; fix: give the relay's user write access there \\(chown, chmod or setfacl\\)\\.?$`),
    });
  });

  it('a file locked by permissions (owned by root, 0600): refused, naming the file', async () => {
    const locked = join(h.house.configRoot, 'groups.yaml');
    const { uid, gid, mode } = await stat(locked);
    await refusedThenDeployed({
      name: 'A goodnight script',
      files: async () => ({ 'scripts.yaml': 'goodnight:\n  alias: Goodnight\n  sequence: []\n' }),
      apply: async () => {
        await chown(locked, 0, 0);
        await chmod(locked, 0o600);
      },
      lift: async () => {
        await chown(locked, uid, gid);
        await chmod(locked, mode & 0o777);
      },
      reason: /the relay's user cannot read groups\.yaml in .* \(permission denied\), so nothing was written; fix: give the relay's user read access to them \(chown, chmod or setfacl\)/,
    });
  });

  it('a backup folder that is full (a small tmpfs): refused, saying it is full', async () => {
    const { uid, gid } = await stat(h.house.backupDir);
    try {
      await run('mount', ['-t', 'tmpfs', '-o', `size=64k,uid=${uid},gid=${gid},mode=0755`, 'lanyard-full', h.house.backupDir]);
    } catch (error) {
      throw new Error(
        `this case needs a small real filesystem for the backup folder and could not mount a tmpfs on ${h.house.backupDir} ` +
          `(mount needs root with CAP_SYS_ADMIN): ${(error as { stderr?: string }).stderr?.trim() || String(error)}`,
      );
    }
    const filler = join(h.house.backupDir, 'filler');
    try {
      // Fill it up as root; dd stops with "No space left on device".
      await run('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k']).catch(() => undefined);
      await run('sh', ['-c', `for i in 1 2 3 4 5 6 7 8; do echo x > ${filler}-$i || break; done`]).catch(() => undefined);
      await refusedThenDeployed({
        name: 'Night scene',
        files: async () => ({ 'scenes.yaml': '- id: night\n  name: Night\n  entities: {}\n' }),
        apply: async () => undefined,
        lift: () => run('sh', ['-c', `rm -f ${filler} ${filler}-*`]).then(() => undefined),
        reason: new RegExp(`the backup folder ${h.house.backupDir} is full .*: the backup did not fit`),
      });
      // The partial archive was cleaned up: only the lifted deploy's backup is there.
      expect((await run('ls', [h.house.backupDir])).stdout).not.toMatch(/\.partial/);
    } finally {
      await rm(filler, { force: true });
      // Lazily: the relay may be listing its backups in that folder right now (it does after each
      // job); a plain umount would then fail with "target is busy" and leave the tmpfs mounted.
      await run('umount', ['--lazy', h.house.backupDir]);
    }
  });
});
