// Times what issue 15's wall 3 is about: a first deploy of a real house refused for one link the
// commit alone shows (`www/outside -> /other/x`), over a real sshd on 127.0.0.1, to a host that
// already holds the house (as one does before its first deploy). Also times a first deploy that
// goes through, plan step included, since the commit is now listed before the host is hashed
// instead of beside it. Each figure is the median of `--runs` jobs; the relay's step timings are
// the StepRunner's own.
//
//   npx tsx scripts/time-refused-deploy.ts [small|medium|large] [--runs 3] [--relative-links] [--pipeline path/to/deploy-pipeline.ts]
//
// `--pipeline` times another version of the pipeline module against the same house. It imports its
// neighbours by relative path, so take it with the modules of its own commit: for the one from
// before issue 15's wall 3, a worktree of that commit (its relay/ was not yet split by concern):
//   git worktree add /tmp/before ab634dc && npx tsx scripts/time-refused-deploy.ts large \
//     --pipeline /tmp/before/relay/pipeline/deploy-pipeline.ts
// `--relative-links` commits the house's `/config/...` links relative, which a pipeline from
// before issue 15 needs to deploy it at all.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { resolveRelayConfig } from '../relay/config.ts';
import { Journal } from '../relay/journal.ts';
import type { Pipeline } from '../relay/pipeline/deploy-pipeline.ts';
import { StepRunner } from '../relay/step-runner.ts';
import { startHomeAssistantStandIn } from '../test/support/home-assistant-standin.ts';
import { git } from '../test/support/house.ts';
import { buildRealHouse, commitWorkTree, REAL_HOUSE_LARGE, REAL_HOUSE_MEDIUM, REAL_HOUSE_SMALL } from '../test/support/real-house-tree.ts';
import { startSshd } from '../test/support/sshd.ts';

const run = promisify(execFile);
const args = process.argv.slice(2);
const sizeName = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a) && !a.endsWith('.ts')) ?? 'large';
const linkKind = args.includes('--relative-links') ? 'relative links' : 'absolute /config links';
const size = { small: REAL_HOUSE_SMALL, medium: REAL_HOUSE_MEDIUM, large: REAL_HOUSE_LARGE }[sizeName];
if (!size) throw new Error('size: small, medium or large');
const runs = Number(args[args.indexOf('--runs') + 1] ?? 3) || 3;
const pipelinePath = args.includes('--pipeline') ? resolve(args[args.indexOf('--pipeline') + 1]!) : resolve('relay/pipeline/deploy-pipeline.ts');
const { createPipeline } = (await import(pathToFileURL(pipelinePath).href)) as { createPipeline: typeof import('../relay/pipeline/deploy-pipeline.ts').createPipeline };

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

const sshd = await startSshd();
const dir = await mkdtemp(join(tmpdir(), 'lanyard-time-refusal-'));
try {
  const house = buildRealHouse({ ...size, absoluteLinks: !args.includes('--relative-links') });
  const work = join(dir, 'work');
  const bare = join(dir, 'ha-config.git');
  await git(dir, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  await house.writeRepository(work);
  const good = await commitWorkTree(work, 'The whole configuration', house.repo);
  await symlink('/other/x', join(work, 'www/outside'));
  const refused = await commitWorkTree(work, 'A link out of the config folder', house.repo);
  await git(work, 'push', '--quiet', bare, 'HEAD:main');

  // The host runs Home Assistant on this very configuration already.
  const configRoot = join(sshd.homeDir, 'srv/homeassistant/config');
  await house.writeRepository(configRoot);
  await house.writeHostState(configRoot);
  await mkdir(join(sshd.homeDir, 'backup'), { recursive: true });
  await run('chown', ['-R', `${sshd.username}:`, join(sshd.homeDir, 'srv'), join(sshd.homeDir, 'backup')]);
  const haDir = join(dir, 'ha');
  await mkdir(haDir);
  await run('sh', ['-c', `printf 'homeassistant:\\n  name: Timed\\n' > ${haDir}/configuration.yaml`]);
  const ha = await startHomeAssistantStandIn({ configDir: haDir, token: 'ha-token', restartDelayMs: 20 });

  let counter = 0;
  const openPipeline = async (): Promise<Pipeline> =>
    createPipeline(
      await resolveRelayConfig(
        {
          stateDir: join(dir, `state-${(counter += 1)}`),
          edge: { url: 'http://127.0.0.1:9', target: 'home', token: 'time-refusal-token' },
          git: { remote: bare, branch: 'main' },
          host: {
            transport: 'ssh',
            configRoot,
            backupDir: join(sshd.homeDir, 'backup'),
            homeAssistantConfigPaths: ['/config', '/homeassistant'],
            ssh: { host: sshd.host, port: sshd.port, username: sshd.username, privateKeyPath: sshd.privateKeyPath, hostKeyFingerprint: sshd.hostKeyFingerprint },
          },
          homeAssistant: { url: ha.url, token: 'ha-token', sensor: false, notify: false },
        },
        join(dir, 'relay.yaml'),
      ),
      quiet,
    );
  const timeJob = async (pipeline: Pipeline, sha: string) => {
    const job = { type: 'job' as const, jobId: `dep_time${String((counter += 1)).padStart(6, '0')}`, attempt: 1, kind: 'deploy' as const, target: 'home', sha, ref: 'refs/heads/main', backupId: null, driftPolicy: 'stop' as const, requestedBy: 'time' };
    const journal = new Journal(join(dir, `journal-${job.jobId}`));
    await journal.open();
    const steps = new StepRunner(job, journal, () => undefined, quiet, {}, Date.now());
    const started = performance.now();
    const outcome = await pipeline.execute(job, steps);
    return { ms: performance.now() - started, outcome, fetch: steps.durations.fetch ?? NaN, plan: steps.durations.plan ?? NaN, sessions: sshd.log().split('\n').filter((l) => l.includes('Starting session: command')).length };
  };

  const refusedMs: number[] = [];
  const refusedFetch: number[] = [];
  const refusedPlan: number[] = [];
  const refusedSessions: number[] = [];
  const firstPlan: number[] = [];
  const firstTotal: number[] = [];
  for (let i = 0; i < runs; i++) {
    // A fresh relay for each job: a cold git cache and no hashes remembered, as on a first deploy.
    const refusing = await openPipeline();
    const before = sshd.log().split('\n').filter((l) => l.includes('Starting session: command')).length;
    const no = await timeJob(refusing, refused);
    if (no.outcome.status !== 'failed') throw new Error(`expected a refusal, got ${no.outcome.status}`);
    refusedMs.push(no.ms);
    refusedFetch.push(no.fetch);
    refusedPlan.push(no.plan);
    refusedSessions.push(no.sessions - before);
    await refusing.close();
    const adopting = await openPipeline();
    const yes = await timeJob(adopting, good);
    if (yes.outcome.status !== 'succeeded') throw new Error(`the good commit ended ${yes.outcome.status}: ${yes.outcome.reason}`);
    firstPlan.push(yes.plan);
    firstTotal.push(yes.ms);
    await adopting.close();
    await rm(join(configRoot, '.lanyard'), { recursive: true, force: true });
  }
  console.log(`${house.repo.length} repository entries (${linkKind}), ${(house.repoBytes / 1048576).toFixed(0)} MiB; pipeline ${pipelinePath}; ${runs} runs`);
  console.log(
    `refused first deploy (one link out of the folder): median ${median(refusedMs).toFixed(0)} ms (fetch ${median(refusedFetch).toFixed(0)} ms, plan until the refusal ${median(refusedPlan).toFixed(0)} ms), commands run on the host: ${refusedSessions.join(', ')}`,
  );
  console.log(`first deploy that goes through (host already holds the files): plan step median ${median(firstPlan).toFixed(0)} ms, job median ${median(firstTotal).toFixed(0)} ms`);
  await ha.close();
} finally {
  await sshd.stop();
  await rm(dir, { recursive: true, force: true });
}
