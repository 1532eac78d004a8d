// Issue 17: what one look of the drift watch costs on a large house over SSH. 15,000 deployed
// files (about 1 KiB each, in 300 folders) on a real sshd on 127.0.0.1, the manifest of a deploy
// that wrote them, and the watch's look (relay/watch/drift-look.ts) as the daemon runs it:
//
//   cold      the first look after the relay started (its hash cache empty): every deployed file hashed
//   unchanged a look at a host unchanged since the last one: a listing, nothing hashed (goal: the
//             figure a Pi can pay every five minutes; the listing is the whole cost)
//   one edit  a look after one file was edited on the host: one file hashed, one read for its diff
//
//   npm run bench -- drift-watch        BENCH_FILES=15000   BENCH_ROUNDS=5
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveRelayConfig } from '../relay/config.ts';
import type { GitSource } from '../relay/pipeline/git-source.ts';
import { LiveHashCache } from '../relay/pipeline/live-tree.ts';
import { ManifestStore } from '../relay/pipeline/manifest-store.ts';
import type { FileEntry } from '../relay/pipeline/manifest.ts';
import { openTargetHost } from '../relay/transport/open-target-host.ts';
import { DriftLook } from '../relay/watch/drift-look.ts';
import { startSshd } from '../test/support/sshd.ts';
import { median, ms } from './support/stats.ts';

const run = promisify(execFile);
const FILES = Number(process.env.BENCH_FILES ?? 15_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SHA = '1'.repeat(40);

const sshd = await startSshd();
const root = join(sshd.homeDir, 'config');
try {
  const files: FileEntry[] = [];
  for (let i = 0; i < FILES; i += 1) {
    const path = `packages/area_${String(i % 300).padStart(3, '0')}/entity_${i}.yaml`;
    const content = `sensor:\n  - platform: template\n    name: Entity ${i}\n${'    # padding to a typical size\n'.repeat(30)}`;
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
    files.push({ path, type: 'file', mode: 0o644, size: Buffer.byteLength(content), sha256: createHash('sha256').update(content).digest('hex') });
  }
  await run('chown', ['-R', `${sshd.username}:`, root]);
  const loaded = await resolveRelayConfig(
    {
      stateDir: join(sshd.homeDir, 'state'),
      edge: { url: 'http://127.0.0.1:9', target: 'home', token: 'x' },
      git: { remote: '/nowhere.git' },
      host: { transport: 'ssh', configRoot: root, ssh: { host: sshd.host, port: sshd.port, username: sshd.username, privateKeyPath: sshd.privateKeyPath, hostKeyFingerprint: sshd.hostKeyFingerprint } },
      homeAssistant: { url: 'http://127.0.0.1:9', token: 'x' },
    },
    join(sshd.homeDir, 'relay.yaml'),
    {},
  );
  const host = await openTargetHost(loaded);
  const manifests = new ManifestStore(join(sshd.homeDir, 'state', 'manifests'), 'home', root);
  await manifests.write(host, { sha: SHA, deployedAt: Date.now(), files });
  // The repository is not needed until a file drifts: the deployed version of the edited file is all it serves.
  const edited = files[FILES - 1]!.path;
  const git = {
    readCommitFile: async (_sha: string, path: string) => (path === edited ? Buffer.from('deployed\n') : null),
  } as unknown as GitSource;
  const look = new DriftLook({ config: loaded.config, logger: { info: () => undefined, warn: console.warn, error: console.error }, git, manifests, root, liveHashes: new LiveHashCache(), host: async () => host });
  // Written files are "racily clean" for a second: wait for the next one, as a real house would have.
  await new Promise((resolve) => setTimeout(resolve, 1100));

  const timed = async () => {
    const started = performance.now();
    const report = await look.look();
    return { ms: performance.now() - started, report, stats: look.last! };
  };
  const cold = await timed();
  const unchanged: number[] = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    const one = await timed();
    if (one.stats.hashed !== 0 || one.report.total !== 0) throw new Error(`an unchanged host was hashed: ${JSON.stringify(one.stats)}`);
    unchanged.push(one.ms);
  }
  await writeFile(join(root, edited), 'edited in the UI\n');
  const edit = await timed();
  if (edit.report.total !== 1 || edit.stats.hashed !== 1) throw new Error(`one edit: ${JSON.stringify(edit.stats)} ${JSON.stringify(edit.report.files.map((f) => f.path))}`);
  await host.close();

  console.log(`drift watch look over ssh, ${FILES} deployed files (${ROUNDS} rounds where repeated):`);
  console.log(`  cold (cache empty)   ${ms(cold.ms)}  hashed ${cold.stats.hashed}`);
  console.log(`  unchanged host       ${ms(median(unchanged))} median (min ${ms(Math.min(...unchanged))}, max ${ms(Math.max(...unchanged))})  hashed 0`);
  console.log(`  one file edited      ${ms(edit.ms)}  hashed ${edit.stats.hashed}, read ${edit.stats.diffReads} for its diff`);
} finally {
  await sshd.stop();
}
