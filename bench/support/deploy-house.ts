// A house for the deploy benchmarks, on 127.0.0.1: a real sshd (the Home Assistant host), a
// counting TCP proxy in front of it, a config repository of the generated 5,000-file tree (real
// git), a host config folder with Home Assistant's own files, a Home Assistant stand-in that
// answers at once, and a relay config pointing at all of them through the proxy. Jobs run through
// the real pipeline (createPipeline), in this process, timed from the StepRunner's own reports.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { ProgressMessage } from '../../shared/protocol.ts';
import { resolveRelayConfig, type LoadedConfig } from '../../relay/config.ts';
import { Journal } from '../../relay/journal.ts';
import type { Logger } from '../../relay/log.ts';
import { createPipeline, type Pipeline } from '../../relay/pipeline/deploy-pipeline.ts';
import { StepRunner, type JobOutcome } from '../../relay/step-runner.ts';
import { startHomeAssistantStandIn, type HomeAssistantStandIn } from '../../test/support/home-assistant-standin.ts';
import { HOST_ONLY_FILES, git } from '../../test/support/house.ts';
import { startSshd, type Sshd } from '../../test/support/sshd.ts';
import { startTcpProxy, type TcpProxy } from '../../test/support/tcp-proxy.ts';
import { writeConfigTree } from './config-tree.ts';

const run = promisify(execFile);
const HA_TOKEN = 'bench-ha-long-lived-token';

export interface DeployHouse {
  sshd: Sshd;
  /** Between the relay and sshd: counts what the pipeline sends and receives. */
  proxy: TcpProxy;
  dir: string;
  /** The repository's work tree, checked out at the last commit. */
  work: string;
  bare: string;
  configRoot: string;
  backupDir: string;
  ha: HomeAssistantStandIn;
  treePaths: string[];
  treeBytes: number;
  /** A relay config (ssh through the proxy) with its own state folder. */
  relayConfig(stateDir: string): Promise<LoadedConfig>;
  /** The same as relay.yaml's content, for a relay process; `edge` names a real edge to connect to. */
  relayConfigRaw(stateDir: string, edge?: { url: string; token: string }): Record<string, unknown>;
  /** Writes files in the work tree, commits and pushes to main; returns the sha. */
  commit(files: Record<string, Buffer>, message: string): Promise<string>;
  /** The host's config root as it is when nothing was deployed yet: only Home Assistant's own files. */
  resetHostToBare(): Promise<void>;
  /** Saves the host's config root (and backups) so `restoreHost` can put exactly this back. */
  snapshotHost(name: string): Promise<void>;
  restoreHost(name: string): Promise<void>;
  /** `ssh` options for OpenSSH clients (rsync -e), through the proxy, with the host key pinned. */
  sshCommand(): string;
  close(): Promise<void>;
}

export interface DeployHouseOptions {
  files: number;
  totalBytes: number;
}

/** Copies a folder with everything in it (modes, owners, times), replacing what `to` held. */
async function copyTree(from: string, to: string): Promise<void> {
  await rm(to, { recursive: true, force: true });
  await run('cp', ['-a', from, to]);
}

export async function startDeployHouse(options: DeployHouseOptions): Promise<DeployHouse> {
  const sshd = await startSshd();
  const proxy = await startTcpProxy(sshd.port);
  const dir = await mkdtemp(join(tmpdir(), 'lanyard-bench-house-'));
  const bare = join(dir, 'ha-config.git');
  const work = join(dir, 'work');
  await git(dir, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  await git(dir, 'clone', '--quiet', bare, work);
  const tree = await writeConfigTree(work, { files: options.files, totalBytes: options.totalBytes });
  await git(work, 'add', '-A');
  await git(work, 'commit', '--quiet', '-m', 'The whole configuration');
  await git(work, 'push', '--quiet', 'origin', 'HEAD:main');

  const configRoot = join(sshd.homeDir, 'config');
  const backupDir = join(sshd.homeDir, 'backup');
  const snapshots = join(dir, 'host-snapshots');
  await mkdir(snapshots);

  // check_config answers at once: it reads a one-line configuration, not the 5,000 files, since the
  // benchmark times the deploy up to "files in place", not Home Assistant.
  const haDir = join(dir, 'ha-check');
  await mkdir(haDir);
  await writeFile(join(haDir, 'configuration.yaml'), 'homeassistant:\n  name: Bench House\n');
  const ha = await startHomeAssistantStandIn({ configDir: haDir, token: HA_TOKEN, restartDelayMs: 50 });

  // The host's key pinned for OpenSSH clients, as [127.0.0.1]:port of the proxy.
  const knownHosts = join(dir, 'known_hosts');
  const { stdout: scanned } = await run('ssh-keyscan', ['-t', 'ed25519', '-p', String(proxy.port), '127.0.0.1']);
  await writeFile(knownHosts, scanned);
  const { stdout: printed } = await run('ssh-keygen', ['-lf', knownHosts]);
  if (!printed.includes(sshd.hostKeyFingerprint)) throw new Error(`ssh-keyscan through the proxy saw another host key: ${printed}`);

  const house: DeployHouse = {
    sshd,
    proxy,
    dir,
    work,
    bare,
    configRoot,
    backupDir,
    ha,
    treePaths: tree.paths,
    treeBytes: tree.bytes,
    relayConfig(stateDir) {
      return resolveRelayConfig(house.relayConfigRaw(stateDir), join(dir, 'relay.yaml'));
    },
    relayConfigRaw(stateDir, edge) {
      return {
        relayId: 'bench-relay',
        stateDir,
        // Jobs run in process need no edge: nothing connects to this one.
        edge: { url: edge?.url ?? 'http://127.0.0.1:9', target: 'home', token: edge?.token ?? 'bench-relay-token-0123456789' },
        git: { remote: bare, branch: 'main' },
        host: {
          transport: 'ssh',
          configRoot,
          backupDir,
          ssh: { host: '127.0.0.1', port: proxy.port, username: sshd.username, privateKeyPath: sshd.privateKeyPath, hostKeyFingerprint: sshd.hostKeyFingerprint },
        },
        homeAssistant: { url: ha.url, token: HA_TOKEN, verifyTimeoutSeconds: 30, requestTimeoutSeconds: 10, sensor: false, notify: false },
      };
    },
    async commit(files, message) {
      for (const [path, content] of Object.entries(files)) {
        await mkdir(dirname(join(work, path)), { recursive: true });
        await writeFile(join(work, path), content);
      }
      await git(work, 'add', '-A');
      await git(work, 'commit', '--quiet', '-m', message);
      await git(work, 'push', '--quiet', 'origin', 'HEAD:main');
      return git(work, 'rev-parse', 'HEAD');
    },
    async resetHostToBare() {
      await rm(configRoot, { recursive: true, force: true });
      await rm(backupDir, { recursive: true, force: true });
      for (const [path, content] of Object.entries(HOST_ONLY_FILES)) {
        await mkdir(dirname(join(configRoot, path)), { recursive: true });
        await writeFile(join(configRoot, path), content);
      }
      await mkdir(backupDir, { recursive: true });
      await run('chown', ['-R', `${sshd.username}:`, configRoot, backupDir]);
    },
    async snapshotHost(name) {
      await copyTree(configRoot, join(snapshots, `${name}-config`));
      await copyTree(backupDir, join(snapshots, `${name}-backup`));
    },
    async restoreHost(name) {
      await copyTree(join(snapshots, `${name}-config`), configRoot);
      await copyTree(join(snapshots, `${name}-backup`), backupDir);
    },
    sshCommand() {
      return [
        'ssh',
        '-F /dev/null',
        `-p ${proxy.port}`,
        `-i ${sshd.privateKeyPath}`,
        '-o IdentitiesOnly=yes',
        '-o BatchMode=yes',
        `-o UserKnownHostsFile=${knownHosts}`,
        '-o StrictHostKeyChecking=yes',
      ].join(' ');
    },
    async close() {
      await ha.close();
      await proxy.close();
      await sshd.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await house.resetHostToBare();
  return house;
}

export function quietLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return { lines, info: keep('info'), warn: keep('warn'), error: keep('error') };
}

export interface TimedJob {
  outcome: JobOutcome;
  /** Per step, as the StepRunner measured it. */
  durations: Record<string, number>;
  /** From the job's start to the end of the apply step: the files are in place. */
  toFilesInPlaceMs: number;
  /** What went to the host, and came back, through the proxy up to the end of apply. */
  bytesUp: number;
  bytesDown: number;
}

let jobCounter = 0;

/** Runs one deploy of `sha` through the pipeline as the daemon would, timing it from its progress reports. */
export async function runDeployJob(pipeline: Pipeline, house: DeployHouse, stateDir: string, sha: string): Promise<TimedJob> {
  jobCounter += 1;
  const journal = new Journal(join(stateDir, `bench-journal-${jobCounter}`));
  await journal.open();
  const job = {
    type: 'job' as const,
    jobId: `dep_bench${String(jobCounter).padStart(4, '0')}`,
    attempt: 1,
    kind: 'deploy' as const,
    target: 'home',
    sha,
    ref: 'refs/heads/main',
    backupId: null,
    driftPolicy: 'stop' as const,
    requestedBy: 'bench',
  };
  let applyEnd: { at: number; up: number; down: number } | null = null;
  const onProgress = (message: ProgressMessage) => {
    if (message.step === 'apply' && message.status === 'succeeded') applyEnd = { at: performance.now(), up: house.proxy.bytesUp, down: house.proxy.bytesDown };
  };
  const logger = quietLogger();
  house.proxy.resetCounters();
  const started = performance.now();
  const steps = new StepRunner(job, journal, onProgress, logger, {}, Date.now());
  const outcome = await pipeline.execute(job, steps);
  if (outcome.status !== 'succeeded') throw new Error(`the deploy ${job.jobId} ended ${outcome.status}: ${outcome.reason}\n${logger.lines.join('\n')}`);
  // A commit the host already holds has no apply step: its files were in place when the job ended.
  const end = (applyEnd as { at: number; up: number; down: number } | null) ?? { at: performance.now(), up: house.proxy.bytesUp, down: house.proxy.bytesDown };
  return { outcome, durations: { ...steps.durations }, toFilesInPlaceMs: end.at - started, bytesUp: end.up, bytesDown: end.down };
}

export async function openPipeline(house: DeployHouse, stateDir: string): Promise<Pipeline> {
  return createPipeline(await house.relayConfig(stateDir), quietLogger());
}
