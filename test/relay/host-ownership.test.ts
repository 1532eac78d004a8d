// Issue 15, wall 5: files were extracted as the relay's user and renamed into place, so a replaced
// automations.yaml became the relay user's, and Home Assistant running as its own user could no
// longer save it. The rules of relay/pipeline/host-ownership.ts, generated against every mode,
// owner and group a host can show; then for real, with busybox's tools as the dedicated relay
// user sharing a group with Home Assistant's user, and with the local transport's sh as root.
import { execFile } from 'node:child_process';
import { chmod, chown, link, lstat, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moveIntoPlace, stageArchive } from '../../relay/pipeline/move-into-place.ts';
import { decideMoves, type HostAttributes, type MoveInspection } from '../../relay/pipeline/host-ownership.ts';
import { LocalHost } from '../../relay/transport/local-host.ts';
import type { TargetHost } from '../../relay/transport/target-host.ts';
import { startBusyboxHost } from '../support/busybox-host.ts';
import { ensureHomeAssistantUser, saveFromTheUi, saveInPlace, type HomeAssistantUser } from '../support/home-assistant-user.ts';
import { startSshd, TEST_USER, type Sshd } from '../support/sshd.ts';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

describe('what a replaced or new file is given (generated hosts)', () => {
  const mode = fc.integer({ min: 0, max: 0o777 }).map((m) => m | 0o400);
  const id: fc.Arbitrary<number> = fc.constantFrom(0, 1000, 1001, 1002);
  const host = fc.record({
    me: fc.record({ uid: id, gid: id, groups: fc.uniqueArray(id, { maxLength: 3 }) }),
    live: fc.record({ uid: id, gid: id, mode, links: fc.constantFrom(1, 1, 2) }),
    staged: fc.record({ gid: id, executable: fc.boolean() }),
    writable: fc.boolean(),
    folderMode: mode,
    folderGid: id,
  });
  type Host = typeof host extends fc.Arbitrary<infer T> ? T : never;
  const attrs = (a: { uid: number; gid: number; mode: number; links?: number }, kind: HostAttributes['kind']): HostAttributes => ({ links: 1, ...a, kind });

  /** The file as it ends up: what the decision does to the staged copy, or the live file kept. */
  function outcome(h: Host) {
    const seen: MoveInspection = {
      me: { uid: h.me.uid, gid: h.me.gid, groups: new Set(h.me.groups) },
      live: new Map([['.', attrs({ uid: h.live.uid, gid: h.folderGid, mode: h.folderMode }, 'folder')], ['a.yaml', attrs(h.live, 'file')]]),
      writable: new Set(h.writable ? ['a.yaml'] : []),
      stagedExecutable: new Set(h.staged.executable ? ['a.yaml'] : []),
      stagedLinks: new Set(),
      stagedGid: h.staged.gid,
    };
    const decided = decideMoves(['a.yaml'], seen, 'deploy');
    const move = decided.files.get('a.yaml')!;
    if (move.how === 'in place') return { move, decided, result: h.live };
    const [uid, gid] = move.chown ? move.chown.split(':').map(Number) : [h.me.uid, move.chgrp ?? h.staged.gid];
    return { move, decided, result: { uid: uid!, gid: gid!, mode: move.chmod ? parseInt(move.chmod, 8) : h.staged.executable ? 0o755 : 0o644 } };
  }

  it('the executable bit follows the commit, and every other bit is the host\'s', () => {
    fc.assert(
      fc.property(host, (h) => {
        const { result } = outcome(h);
        expect((result.mode & 0o111) !== 0).toBe(h.staged.executable);
        expect(result.mode & 0o666).toBe(h.live.mode & 0o666);
      }),
    );
  });

  it('as root, a replaced file always gets its owner and group back', () => {
    fc.assert(fc.property(host, (h) => {
      const { result } = outcome({ ...h, me: { ...h.me, uid: 0 } });
      expect([result.uid, result.gid]).toEqual([h.live.uid, h.live.gid]);
    }));
  });

  it('an owner or group that could not be kept is always said, and only then', () => {
    fc.assert(
      fc.property(host, (h) => {
        const { result, decided } = outcome(h);
        expect(decided.notKept.some((n) => n.what === 'owner')).toBe(result.uid !== h.live.uid);
        expect(decided.notKept.some((n) => n.what === 'group')).toBe(result.gid !== h.live.gid);
      }),
    );
  });

  it('writes into the existing file only when it is someone else\'s, the relay may write it, its executable bit stays and it has no other hard link; chgrp only to its own groups', () => {
    fc.assert(
      fc.property(host, (h) => {
        const { move } = outcome(h);
        const sameBit = ((h.live.mode & 0o111) !== 0) === h.staged.executable;
        if (move.how === 'in place') expect(h.me.uid !== 0 && h.live.uid !== h.me.uid && h.writable && sameBit && h.live.links === 1).toBe(true);
        if (move.chgrp !== undefined) expect(h.me.uid === 0 || h.me.gid === move.chgrp || h.me.groups.includes(move.chgrp)).toBe(true);
        if (move.chown !== undefined) expect(h.me.uid).toBe(0);
      }),
    );
  });
});

interface Case {
  name: string;
  relayUser: string | null;
  open(): Promise<TargetHost>;
}

const cases: Case[] = isRoot
  ? [
      { name: "busybox's tools as the relay's dedicated user", relayUser: TEST_USER, open: () => startBusyboxHost({ user: TEST_USER }) },
      { name: "the local transport's sh as root", relayUser: null, open: async () => new LocalHost() },
    ]
  : [];

describe.skipIf(!isRoot).each(cases)('Home Assistant runs as its own user; the relay writes with $name', ({ relayUser, open }) => {
  let sshd: Sshd;
  let ha: HomeAssistantUser;
  let relayIds: { uid: number; gid: number };
  let host: TargetHost;
  let scratch: string;

  beforeAll(async () => {
    // The test sshd creates the relay's dedicated user; Home Assistant's user shares its group with it.
    sshd = await startSshd();
    ha = await ensureHomeAssistantUser(TEST_USER);
    const [uid, gid] = (await run('sh', ['-c', `id -u ${relayUser ?? 'root'}; id -g ${relayUser ?? 'root'}`])).stdout.trim().split('\n').map(Number);
    relayIds = { uid: uid!, gid: gid! };
    host = await open();
    scratch = await mkdtemp(join(tmpdir(), 'lanyard-owners-'));
    await chmod(scratch, 0o755);
  });

  afterAll(async () => {
    await host?.close();
    await sshd?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  /** A file as Home Assistant left it: its user, its group, `mode`. */
  async function haFile(root: string, path: string, text: string, mode: number, uid = ha.uid): Promise<void> {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
    await chown(join(root, path), uid, ha.gid);
    await chmod(join(root, path), mode);
  }

  async function attributes(root: string, path: string) {
    const info = await lstat(join(root, path));
    return { uid: info.uid, gid: info.gid, mode: info.mode & 0o7777, ino: info.ino };
  }

  it('replaced files keep owner, group and mode, new files and folders take their folder\'s, and Home Assistant saves them afterwards', async () => {
    // The production guide's setup: Home Assistant's folder, its group, setgid and group-writable.
    const root = join(scratch, 'config');
    for (const folder of ['', 'packages', 'blueprints', 'scripts']) {
      await mkdir(join(root, folder), { recursive: true });
      await chown(join(root, folder), ha.uid, ha.gid);
      await chmod(join(root, folder), 0o2775);
    }
    await haFile(root, 'automations.yaml', '- id: old\n', 0o664);
    await haFile(root, 'scripts/run.sh', '#!/bin/sh\necho old\n', 0o775);
    // As Home Assistant's UI save leaves a file: 0644, whatever the umask.
    await haFile(root, 'scenes.yaml', '[]\n', 0o644);
    await haFile(root, 'scripts/flip.sh', 'echo not yet a script\n', 0o664);
    // One the relay's user wrote before, in Home Assistant's group.
    await haFile(root, 'customize.yaml', '{}\n', 0o664, relayIds.uid);
    // Group-writable, but with a second name outside the config folder: never written through.
    await haFile(root, 'groups.yaml', 'old: {}\n', 0o664);
    await link(join(root, 'groups.yaml'), join(scratch, 'groups-outside.yaml'));
    const before = {
      automations: await attributes(root, 'automations.yaml'),
      run: await attributes(root, 'scripts/run.sh'),
      scenes: await attributes(root, 'scenes.yaml'),
      customize: await attributes(root, 'customize.yaml'),
    };

    // The commit's files, as git archive makes them (0644, and 0755 for scripts).
    const commit = join(scratch, 'commit');
    const files: Record<string, [string, number]> = {
      'automations.yaml': ['- id: new\n', 0o644],
      'scenes.yaml': ['- id: evening\n', 0o644],
      'customize.yaml': ['light.porch: {}\n', 0o644],
      'groups.yaml': ['porch: {}\n', 0o644],
      'scripts/run.sh': ['#!/bin/sh\necho new\n', 0o755],
      'scripts/flip.sh': ['#!/bin/sh\necho now a script\n', 0o755],
      'packages/new.yaml': ['sensor: []\n', 0o644],
      'blueprints/automation/ada/motion.yaml': ['blueprint: {}\n', 0o644],
    };
    for (const [path, [text, mode]] of Object.entries(files)) {
      await mkdir(dirname(join(commit, path)), { recursive: true });
      await writeFile(join(commit, path), text, { mode });
      await chmod(join(commit, path), mode);
    }
    const archive = (await promisify(execFile)('sh', ['-c', `tar -czf - -C '${commit}' ${Object.keys(files).map((p) => `'./${p}'`).join(' ')}`], { encoding: 'buffer', maxBuffer: 1 << 20 })).stdout;
    const staging = `${root}/.lanyard/staging/job`;
    await stageArchive(host, staging, archive);
    const report = await moveIntoPlace(host, root, staging, Object.keys(files), []);

    for (const [path, [text]] of Object.entries(files)) expect(await readFile(join(root, path), 'utf8'), path).toBe(text);
    expect(await readFile(join(scratch, 'groups-outside.yaml'), 'utf8')).toBe('old: {}\n');
    expect((await attributes(root, 'groups.yaml')).mode).toBe(0o664);
    // Group-writable files of Home Assistant: written in place by the dedicated user, exactly kept by root.
    expect(await attributes(root, 'automations.yaml')).toMatchObject({ uid: ha.uid, gid: ha.gid, mode: 0o664 });
    expect(await attributes(root, 'scripts/run.sh')).toMatchObject({ uid: ha.uid, gid: ha.gid, mode: 0o775 });
    expect(await attributes(root, 'customize.yaml')).toMatchObject({ uid: relayIds.uid, gid: ha.gid, mode: 0o664 });
    expect((await attributes(root, 'scripts/flip.sh')).mode).toBe(0o775);
    if (relayUser) {
      expect((await attributes(root, 'automations.yaml')).ino).toBe(before.automations.ino);
      expect(report.writtenInPlace.sort()).toEqual(['automations.yaml', 'scripts/run.sh']);
      // Home Assistant's 0644 file cannot be written by another user: renamed, group and mode
      // kept, and the owner change said.
      expect(await attributes(root, 'scenes.yaml')).toMatchObject({ uid: relayIds.uid, gid: ha.gid, mode: 0o644 });
      expect(report.notKept).toEqual([
        { path: 'scenes.yaml', what: 'owner', was: ha.name },
        { path: 'groups.yaml', what: 'owner', was: ha.name },
        { path: 'scripts/flip.sh', what: 'owner', was: ha.name },
      ]);
    } else {
      expect(await attributes(root, 'scenes.yaml')).toMatchObject({ uid: ha.uid, gid: ha.gid, mode: 0o644 });
      expect(await attributes(root, 'scripts/flip.sh')).toMatchObject({ uid: ha.uid, gid: ha.gid });
      expect(report.notKept).toEqual([]);
    }
    // New files and folders: the folder's group (as root its owner too), group-writable like it.
    for (const path of ['packages/new.yaml', 'blueprints/automation/ada/motion.yaml']) {
      expect(await attributes(root, path), path).toMatchObject({ uid: relayUser ? relayIds.uid : ha.uid, gid: ha.gid, mode: 0o664 });
    }
    for (const folder of ['blueprints/automation', 'blueprints/automation/ada']) {
      expect(await attributes(root, folder), folder).toMatchObject({ uid: relayUser ? relayIds.uid : ha.uid, gid: ha.gid, mode: 0o2775 });
    }

    // Home Assistant, as its own user: an editor saving in place, the UI saving through the
    // folder, a blueprint imported into the folder the deploy made.
    await saveInPlace(ha.name, join(root, 'automations.yaml'), '- id: from_the_editor\n');
    await saveInPlace(ha.name, join(root, 'packages/new.yaml'), 'sensor: [edited]\n');
    await saveFromTheUi(ha.name, join(root, 'scenes.yaml'), '- id: from_the_ui\n');
    await saveFromTheUi(ha.name, join(root, 'blueprints/automation/ada/imported.yaml'), 'blueprint: {name: imported}\n');
    expect(await readFile(join(root, 'automations.yaml'), 'utf8')).toBe('- id: from_the_editor\n');
    expect(await readFile(join(root, 'packages/new.yaml'), 'utf8')).toBe('sensor: [edited]\n');
    expect(await readFile(join(root, 'scenes.yaml'), 'utf8')).toBe('- id: from_the_ui\n');
    expect(await readFile(join(root, 'blueprints/automation/ada/imported.yaml'), 'utf8')).toBe('blueprint: {name: imported}\n');
    expect(await attributes(root, 'automations.yaml')).toMatchObject({ uid: ha.uid, gid: ha.gid, mode: 0o664 });
    expect(before.scenes.uid).toBe(ha.uid);
  });
});
