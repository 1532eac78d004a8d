// What keeping owners and removing emptied folders costs the apply step (issue 15, walls 4 and 5):
// moveIntoPlace over a real sshd on 127.0.0.1, as the dedicated SSH user, on the paths of a real
// house, against the moves as they were before (a check, a mkdir and an mv per folder, one rm per
// deleted file), measured in the same run. Home Assistant's user (`lanyard-ha`) shares its group
// with the SSH user, as docs/production.md sets it up. Root only (useradd, chown).
//
//   npm run bench -- host-ownership
//   BENCH_FILES=5000 BENCH_ROUNDS=5 npm run bench -- host-ownership
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { moveIntoPlace, stageArchive } from '../relay/pipeline/move-into-place.ts';
import { packFiles } from '../relay/pipeline/upload.ts';
import { connectSshHost } from '../relay/transport/ssh-host.ts';
import { shellQuote, type TargetHost } from '../relay/transport/target-host.ts';
import { ensureHomeAssistantUser } from '../test/support/home-assistant-user.ts';
import { buildRealHouse, REAL_HOUSE_LARGE } from '../test/support/real-house-tree.ts';
import { startSshd } from '../test/support/sshd.ts';
import { median, ms, ratio, time } from './support/stats.ts';

const run = promisify(execFile);
const FILES = Number(process.env.BENCH_FILES ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** The moves as they were before issue 15: renamed as the relay's user, nothing else. */
async function movesBefore(host: TargetHost, root: string, staging: string, toWrite: string[], toDelete: string[]): Promise<void> {
  const byFolder = new Map<string, string[]>();
  for (const path of toWrite) {
    const folder = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '.';
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), path]);
  }
  const check = ['set -e', `cd ${shellQuote(root)}`, ...toWrite.map((p) => `if [ -d ${shellQuote(p)} ] && [ ! -L ${shellQuote(p)} ]; then exit 5; fi`)];
  await host.run('exec sh -s', { stdin: check.join('\n') });
  const lines = ['set -e', `cd ${shellQuote(root)}`];
  for (const [folder, paths] of byFolder) {
    if (folder !== '.') lines.push(`mkdir -p ${shellQuote(`./${folder}`)}`);
    for (let i = 0; i < paths.length; i += 500) lines.push(`mv -f ${paths.slice(i, i + 500).map((p) => shellQuote(`${staging}/${p}`)).join(' ')} ${shellQuote(folder === '.' ? './' : `./${folder}/`)}`);
  }
  await host.run('exec sh -s', { stdin: lines.join('\n') });
  await host.run('exec sh -s', { stdin: ['set -e', `cd ${shellQuote(root)}`, ...toDelete.map((p) => `rm -f -- ${shellQuote(p)}`), `rm -rf ${shellQuote(staging)}`].join('\n') });
}

if (process.getuid?.() !== 0) {
  console.log('host-ownership: skipped, needs root (a second user for Home Assistant)');
  process.exit(0);
}
const sshd = await startSshd();
const ha = await ensureHomeAssistantUser(sshd.username);
const host = await connectSshHost({ host: sshd.host, port: sshd.port, username: sshd.username, privateKeyPath: sshd.privateKeyPath, hostKeyFingerprint: sshd.hostKeyFingerprint });
const scratch = await mkdtemp(join(tmpdir(), 'lanyard-bench-owners-'));
try {
  await run('chmod', ['755', scratch]);
  // The paths of a real house: deep custom_components/ packages, www/community/ bundles.
  const paths = buildRealHouse(REAL_HOUSE_LARGE).files.filter((f) => !f.ownedByHost).map((f) => f.path).slice(0, FILES);
  const src = join(scratch, 'src');
  for (const [i, path] of paths.entries()) {
    await mkdir(dirname(join(src, path)), { recursive: true });
    await writeFile(join(src, path), `file ${i} of the commit, round two\n`);
  }
  const root = join(scratch, 'config');
  /** The host before each round: every path there, owned as `owner` says. */
  async function hostWith(owner: 'relay' | 'ha group-writable' | 'ha 0644' | 'empty'): Promise<void> {
    await rm(root, { recursive: true, force: true });
    await mkdir(root);
    if (owner !== 'empty') await run('cp', ['-r', `${src}/.`, root]);
    const user = owner === 'relay' ? sshd.username : ha.name;
    await run('chown', ['-R', `${user}:${ha.name}`, root]);
    await run('sh', ['-c', `find "$1" -type d -exec chmod 2775 {} + ; find "$1" -type f -exec chmod ${owner === 'ha 0644' ? 644 : 664} {} +`, 'sh', root]);
  }
  async function stage(round: string): Promise<string> {
    const staging = `${root}/.lanyard/staging/${round}`;
    const upload = packFiles(src, paths);
    await stageArchive(host, staging, upload.archive);
    await upload.finished;
    return staging;
  }

  const rows: [string, number, number, string][] = [];
  for (const owner of ['relay', 'ha group-writable', 'ha 0644', 'empty'] as const) {
    const before: number[] = [];
    const after: number[] = [];
    let note = '';
    for (let r = 0; r < ROUNDS; r += 1) {
      await hostWith(owner);
      let staging = await stage(`before-${r}`);
      before.push(await time(() => movesBefore(host, root, staging, paths, [])));
      await hostWith(owner);
      staging = await stage(`after-${r}`);
      after.push(
        await time(async () => {
          const report = await moveIntoPlace(host, root, staging, paths, []);
          note = `${report.writtenInPlace.length} in place, ${report.notKept.length} owners not kept`;
        }),
      );
    }
    rows.push([owner === 'empty' ? `new files into ${ha.name}'s folders` : `replace ${owner === 'relay' ? "the relay user's own files" : `Home Assistant's files (${owner.slice(3)})`}`, median(before), median(after), note]);
  }

  // Removing the whole tree: the deletes as before, against the deletes with the bytecode and the emptied folders.
  const removeBefore: number[] = [];
  const removeAfter: number[] = [];
  let folders = 0;
  for (let r = 0; r < ROUNDS; r += 1) {
    await hostWith('relay');
    await run('sh', ['-c', `mkdir -p "$1/.lanyard/staging/x" && chown -R ${sshd.username} "$1/.lanyard"`, 'sh', root]);
    removeBefore.push(await time(() => movesBefore(host, root, `${root}/.lanyard/staging/x`, [], paths)));
    await hostWith('relay');
    await run('sh', ['-c', `mkdir -p "$1/.lanyard/staging/x" && chown -R ${sshd.username} "$1/.lanyard"`, 'sh', root]);
    removeAfter.push(await time(async () => (folders = (await moveIntoPlace(host, root, `${root}/.lanyard/staging/x`, [], paths)).foldersRemoved.length)));
  }
  rows.push([`delete every file (and ${folders} emptied folders)`, median(removeBefore), median(removeAfter), '']);

  console.log(`host-ownership: ${paths.length} files of a real house, ${ROUNDS} rounds, medians; over ssh as ${sshd.username}`);
  for (const [what, b, a, note] of rows) console.log(`  ${what.padEnd(52)} before ${ms(b).padStart(8)}  now ${ms(a).padStart(8)}  ${ratio(a, b)}${note ? `  (${note})` : ''}`);
} finally {
  await host.close();
  await sshd.stop();
  await rm(scratch, { recursive: true, force: true });
}
