// A house for the deploy benchmarks, on 127.0.0.1: a real sshd (the Home Assistant host), a
// counting TCP proxy in front of it, a config repository holding a generated real house (issue
// 15: test/support/real-house-tree.ts, at the size asked, committed once and cached under /tmp by
// real-house-repo.ts), a host config folder holding Home Assistant's own state for that house
// (.storage/, the database, logs, bytecode, add-on output), a Home Assistant stand-in that answers
// at once, and a relay config pointing at all of them through the proxy. The repository's
// absolute `/config/...` and `/homeassistant/...` links are read as Home Assistant sees the folder
// (host.homeAssistantConfigPaths, as the add-on sets it). Jobs run through the real pipeline
// (createPipeline), in this process, timed from the StepRunner's own reports.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { newId } from '../../shared/ids.ts';
import type { ProgressMessage } from '../../shared/protocol.ts';
import { resolveRelayConfig, type LoadedConfig } from '../../relay/config.ts';
import { Journal } from '../../relay/journal.ts';
import type { Logger } from '../../relay/log.ts';
import { createPipeline, type Pipeline } from '../../relay/pipeline/deploy-pipeline.ts';
import { StepRunner, type JobOutcome } from '../../relay/step-runner.ts';
import { startHomeAssistantStandIn, type HomeAssistantStandIn } from '../../test/support/home-assistant-standin.ts';
import type { RealHouseChange, RealHouseTree, TreeEntry } from '../../test/support/real-house-tree.ts';
import { startSshd, type Sshd } from '../../test/support/sshd.ts';
import { startTcpProxy, type TcpProxy } from '../../test/support/tcp-proxy.ts';
import type { BenchSize } from './bench-sizes.ts';
import { assertHostHolds } from './host-holds.ts';
import { installRemoteProfile, recordRemoteCommands, type RemoteCommand } from './remote-profile.ts';
import { cachedRealHouse, copyOfRepository, type HouseRepository } from './real-house-repo.ts';
import { excludesFileIn, rsyncToHost, writeRsyncExcludes, type RsyncRun } from './rsync-baseline.ts';

const run = promisify(execFile);
const HA_TOKEN = 'bench-ha-long-lived-token';
/** Where Home Assistant and its add-ons see the config folder: the real house's absolute links name both. */
export const HOME_ASSISTANT_CONFIG_PATHS = ['/config', '/homeassistant'];

export interface DeployHouse {
  size: BenchSize;
  tree: RealHouseTree;
  sshd: Sshd;
  /** Between the relay and sshd: counts what the pipeline sends and receives. */
  proxy: TcpProxy;
  dir: string;
  /** The repository's work tree, checked out at the last commit. */
  work: string;
  bare: string;
  /** The commit of the whole house. */
  initialSha: string;
  configRoot: string;
  backupDir: string;
  ha: HomeAssistantStandIn;
  /** What the house took to set up: the cached repository (or its generation) and the host's state. */
  setupNote: string;
  /** A relay config (ssh through the proxy) with its own state folder. */
  relayConfig(stateDir: string): Promise<LoadedConfig>;
  /** The same as relay.yaml's content, for a relay process; `edge` names a real edge to connect to. */
  relayConfigRaw(stateDir: string, edge?: { url: string; token: string }): Record<string, unknown>;
  /** Writes a change of the real house in the work tree, commits and pushes it to main; returns the sha. */
  commitChange(change: RealHouseChange): Promise<string>;
  /** The repository's entries at the last commit. */
  current(): readonly TreeEntry[];
  /** The host's config root as it is when nothing was deployed yet: only Home Assistant's own files. */
  resetHostToBare(hostDir?: string): Promise<void>;
  /** Saves the host's config root (and backups) so `restoreHost` can put exactly this back. */
  snapshotHost(name: string): Promise<void>;
  restoreHost(name: string): Promise<void>;
  /** Throws unless `hostDir` (the config root by default) holds the last commit, Home Assistant's files untouched. */
  assertHostHoldsCommit(what: string, hostDir?: string): Promise<void>;
  /** rsync of the work tree onto `hostDir` through the proxy, leaving alone what the relay leaves alone. */
  rsync(flags: readonly string[], hostDir?: string): Promise<RsyncRun>;
  /** `ssh` options for OpenSSH clients (rsync -e), through the proxy, with the host key pinned. */
  sshCommand(): string;
  close(): Promise<void>;
}

/** Copies a folder with everything in it (modes, owners, times), replacing what `to` held. */
async function copyTree(from: string, to: string): Promise<void> {
  await rm(to, { recursive: true, force: true });
  await run('cp', ['-a', from, to]);
}

export async function startDeployHouse(size: BenchSize): Promise<DeployHouse> {
  const cached = await cachedRealHouse(size);
  const tree = cached.tree;
  const sshd = await startSshd();
  const proxy = await startTcpProxy(sshd.port);
  const dir = await mkdtemp(join(tmpdir(), 'lanyard-bench-house-'));
  const copying = performance.now();
  const repository: HouseRepository = await copyOfRepository(cached, dir);
  const copyMs = performance.now() - copying;
  const { bare, work } = repository;

  const configRoot = join(sshd.homeDir, 'config');
  const backupDir = join(sshd.homeDir, 'backup');
  const snapshots = join(dir, 'host-snapshots');
  await mkdir(snapshots);
  const excludes = await writeRsyncExcludes(excludesFileIn(dir), tree.unmanagedOnHost);

  // check_config answers at once: it reads a one-line configuration, not the house, since the
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
    size,
    tree,
    sshd,
    proxy,
    dir,
    work,
    bare,
    initialSha: cached.sha,
    configRoot,
    backupDir,
    ha,
    setupNote: `repository ${cached.generated ? 'generated and cached' : 'from the cache'} (${cached.dir}) in ${(cached.ms / 1000).toFixed(1)} s, copied in ${(copyMs / 1000).toFixed(1)} s`,
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
          homeAssistantConfigPaths: HOME_ASSISTANT_CONFIG_PATHS,
          ssh: { host: '127.0.0.1', port: proxy.port, username: sshd.username, privateKeyPath: sshd.privateKeyPath, hostKeyFingerprint: sshd.hostKeyFingerprint },
        },
        homeAssistant: { url: ha.url, token: HA_TOKEN, verifyTimeoutSeconds: 30, requestTimeoutSeconds: 10, sensor: false, notify: false },
      };
    },
    commitChange: (change) => repository.commitChange(change),
    current: () => repository.current,
    async resetHostToBare(hostDir = configRoot) {
      await rm(hostDir, { recursive: true, force: true });
      await tree.writeHostState(hostDir);
      if (hostDir === configRoot) {
        await rm(backupDir, { recursive: true, force: true });
        await mkdir(backupDir, { recursive: true });
      }
      await run('chown', ['-R', `${sshd.username}:`, hostDir, backupDir]);
    },
    async snapshotHost(name) {
      await copyTree(configRoot, join(snapshots, `${name}-config`));
      await copyTree(backupDir, join(snapshots, `${name}-backup`));
    },
    async restoreHost(name) {
      await copyTree(join(snapshots, `${name}-config`), configRoot);
      await copyTree(join(snapshots, `${name}-backup`), backupDir);
    },
    assertHostHoldsCommit: (what, hostDir = configRoot) => assertHostHolds(tree, repository.current, work, hostDir, what),
    rsync: (flags, hostDir = configRoot) => rsyncToHost({ source: work, login: `${sshd.username}@127.0.0.1`, hostDir, sshCommand: house.sshCommand(), excludes, proxy }, flags),
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
  const writing = performance.now();
  await house.resetHostToBare();
  house.setupNote += `; host state (${tree.host.length} files) written in ${((performance.now() - writing) / 1000).toFixed(1)} s`;
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
  /** Every command the job ran on the host, with its time (remote-profile.ts). */
  commands: RemoteCommand[];
}


/** Runs one deploy of `sha` through the pipeline as the daemon would, timing it from its progress reports. */
export async function runDeployJob(pipeline: Pipeline, house: DeployHouse, stateDir: string, sha: string): Promise<TimedJob> {
  const jobId = newId('dep');
  const journal = new Journal(join(stateDir, `bench-journal-${jobId}`));
  await journal.open();
  const job = {
    type: 'job' as const,
    jobId,
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
  installRemoteProfile();
  house.proxy.resetCounters();
  const stopRecording = recordRemoteCommands();
  const started = performance.now();
  const steps = new StepRunner(job, journal, onProgress, logger, {}, Date.now());
  const outcome = await pipeline.execute(job, steps);
  const commands = stopRecording();
  if (outcome.status !== 'succeeded') throw new Error(`the deploy ${job.jobId} ended ${outcome.status}: ${outcome.reason}\n${logger.lines.join('\n')}`);
  // A commit the host already holds has no apply step: its files were in place when the job ended.
  const end = (applyEnd as { at: number; up: number; down: number } | null) ?? { at: performance.now(), up: house.proxy.bytesUp, down: house.proxy.bytesDown };
  return { outcome, durations: { ...steps.durations }, toFilesInPlaceMs: end.at - started, bytesUp: end.up, bytesDown: end.down, commands };
}

export async function openPipeline(house: DeployHouse, stateDir: string): Promise<Pipeline> {
  return createPipeline(await house.relayConfig(stateDir), quietLogger());
}
