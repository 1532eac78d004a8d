// Why the pipeline batches its remote work: hashing every live file in one SSH command, and
// uploading a deploy as one tar stream, against the obvious baseline of one round trip per file —
// both measured in the same run against a real sshd on 127.0.0.1. Reports ratios, not seconds.
//
//   npm run bench                 (as root: the sshd harness logs in as a dedicated test user)
//   BENCH_FILES=2000 npm run bench
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { hashLiveTree } from '../relay/pipeline/live-tree.ts';
import { moveIntoPlace, stageArchive } from '../relay/pipeline/move-into-place.ts';
import { packFiles } from '../relay/pipeline/upload.ts';
import { connectSshHost } from '../relay/transport/ssh-host.ts';
import { shellQuote } from '../relay/transport/target-host.ts';
import { startSshd } from '../test/support/sshd.ts';
import { median, time } from './support/stats.ts';

const run = promisify(execFile);
const FILES = Number(process.env.BENCH_FILES ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);


const sshd = await startSshd();
const host = await connectSshHost({ host: sshd.host, port: sshd.port, username: sshd.username, privateKeyPath: sshd.privateKeyPath, hostKeyFingerprint: sshd.hostKeyFingerprint });
const local = await mkdtemp(join(tmpdir(), 'lanyard-bench-'));
try {
  const root = join(sshd.homeDir, 'config');
  const paths: string[] = [];
  for (let i = 0; i < FILES; i += 1) {
    const path = `www/tiles/${String(i % 20)}/tile-${i}.svg`;
    paths.push(path);
    await mkdir(join(local, 'src', path, '..'), { recursive: true });
    await writeFile(join(local, 'src', path), `<svg id="${i}">${'x'.repeat(200 + (i % 500))}</svg>\n`);
  }
  await run('cp', ['-a', join(local, 'src'), root]);
  await run('chown', ['-R', `${sshd.username}:`, root]);

  // Hashing: one command for the whole tree, against one `sha256sum` per file.
  const batchedHash: number[] = [];
  const perFileHash: number[] = [];
  for (let r = 0; r < ROUNDS; r += 1) {
    batchedHash.push(await time(() => hashLiveTree(host, root)));
    perFileHash.push(
      await time(async () => {
        for (const path of paths) await host.run(`sha256sum ${shellQuote(`${root}/${path}`)}`);
      }),
    );
  }

  // Upload: one tar stream and one script of renames, against one SFTP put per file.
  const batchedUpload: number[] = [];
  const perFileUpload: number[] = [];
  for (let r = 0; r < ROUNDS; r += 1) {
    batchedUpload.push(
      await time(async () => {
        const upload = packFiles(join(local, 'src'), paths);
        const staging = `${root}/.lanyard/staging/bench-${r}`;
        await stageArchive(host, staging, upload.archive);
        await upload.finished;
        await moveIntoPlace(host, root, staging, paths, []);
      }),
    );
    perFileUpload.push(
      await time(async () => {
        for (const path of paths) await host.upload(join(local, 'src', path), `${root}/${path}`);
      }),
    );
  }

  const ratio = (baseline: number[], ours: number[]) => (median(baseline) / median(ours)).toFixed(1);
  console.log(`files: ${FILES}, rounds: ${ROUNDS}, sshd on 127.0.0.1 (loopback: a real LAN adds latency per round trip, so the ratios here are a lower bound)`);
  console.log(`hash the live tree — one command: ${median(batchedHash).toFixed(0)} ms; one round trip per file: ${median(perFileHash).toFixed(0)} ms; batched is ${ratio(perFileHash, batchedHash)}x faster`);
  console.log(`upload a deploy    — tar stream + renames: ${median(batchedUpload).toFixed(0)} ms; one SFTP put per file: ${median(perFileUpload).toFixed(0)} ms; batched is ${ratio(perFileUpload, batchedUpload)}x faster`);
} finally {
  await host.close();
  await sshd.stop();
  await rm(local, { recursive: true, force: true });
}
