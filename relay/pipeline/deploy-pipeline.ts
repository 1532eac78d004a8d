// The pipeline: what actually happens to the house.
//
//   fetch → plan → drift → backup → apply → check → activate → verify → record
//                                     └──────── any failure ────────┘→ rollback
//
// Nothing is written to the host before the backup has been read back and verified. From the
// moment files are written, any failure (and a kill, through the journal) ends in a restore of that
// backup; the deployment then ends `rolled_back` with the first failure's reason.
import { join } from 'node:path';
import type { Activation, DeploymentSummary, DriftPolicy, StepName } from '../../shared/deployment.ts';
import { newId } from '../../shared/ids.ts';
import type { JobMessage } from '../../shared/protocol.ts';
import { configRootsOf, type LoadedConfig } from '../config.ts';
import { firstLine, shortSha } from '../../shared/commit.ts';
import { backoffDelay, type BackoffPolicy } from '../channel/backoff.ts';
import { HomeAssistantClient, type RestartRequest } from '../home-assistant/client.ts';
import { houseOutward, withHouseOutward } from '../outward/house-outward.ts';
import type { JobExecutor } from '../job-runner.ts';
import type { JournalEntry } from '../journal.ts';
import type { Logger } from '../log.ts';
import { Journal } from '../journal.ts';
import { JOB_ID_SHAPE, pathInside } from '../safe-path.ts';
import { StepFailure, StepRunner, type JobOutcome } from '../step-runner.ts';
import { openTargetHost } from '../transport/open-target-host.ts';
import { shellQuote, type TargetHost } from '../transport/target-host.ts';
import { activate, type ActivationPlan } from './activate.ts';
import { decideActivation } from './activation-map.ts';
import { discardUnrecordedBackup, findBackup, listBackups, newBackupId, pruneBackups, takeBackup, type BackupRecord } from './backups.ts';
import { gitSourceFor } from './git-source.ts';
import { describeSkipped, restoreArchive, type RestoreReport } from './archive-restore.ts';
import { readHostFile } from './host-files.ts';
import { hashLiveTree, LiveHashCache } from './live-tree.ts';
import { checkWritable, describeMoved, MOVE_CHUNK, moveIntoPlace, stageArchive } from './move-into-place.ts';
import { DEFAULT_LANYARD_FILE, parseLanyardFile, type LanyardFile } from './lanyard-file.ts';
import { ManifestStore } from './manifest-store.ts';
import type { Manifest } from './manifest.ts';
import { checkCommit } from './commit-checks.ts';
import { PathsRefused, planOnHost, type Plan } from './plan.ts';
import { compressUpload } from './upload.ts';

/** Steps after which the host may differ from the backup: a crash here means restore. */
const WRITING_STEPS: readonly StepName[] = ['apply', 'check', 'activate', 'verify', 'rollback', 'restore'];

export interface DeployContext {
  backupId?: string;
  activation?: ActivationPlan;
  activated?: boolean;
  newManifest?: Manifest;
  firstFailure?: string;
  /** The backup being taken, named before it exists, so a kill mid-backup can clear what it left. */
  pendingBackupId?: string;
}

export interface Pipeline extends JobExecutor {
  breakGlassRestore(backupId: string): Promise<JobOutcome>;
  close(): Promise<void>;
}


/**
 * The drift policy a job runs under. The edge asks for one, but overwriting what someone changed on
 * the host is the host owner's call: without `deploy.allowDriftOverwrite` on the relay, `overwrite`
 * is run as `stop` (report-only never writes over drift, so it stands).
 */
export function driftPolicyOf(asked: DriftPolicy, allowOverwrite: boolean): DriftPolicy {
  return asked === 'overwrite' && !allowOverwrite ? 'stop' : asked;
}

/** What a drift refusal adds when overwriting also needs the relay's consent: which line of its config to set. */
function driftCeilingNote(asked: DriftPolicy, allowOverwrite: boolean, configPath: string): string {
  if (allowOverwrite) return '';
  if (asked === 'overwrite') {
    return ` The edge asked to overwrite them, but this relay does not let the edge overwrite changes made on the host: to allow it, set deploy.allowDriftOverwrite: true in ${configPath} and restart the relay.`;
  }
  return ` Overwriting them from the edge also needs deploy.allowDriftOverwrite: true in ${configPath} on the relay.`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** How long a reused connection may take to run `true` before it counts as dead. */
const PROBE_TIMEOUT_MS = 10_000;

/**
 * How long a rollback keeps trying to reach a host it lost in the middle of a deploy (a reboot, a
 * network blink): long enough for a Raspberry Pi or a NUC to boot, after which it says how to
 * restore by hand.
 */
const ROLLBACK_RECONNECT_MS = 5 * 60_000;
/** The pauses between those tries: 1 s growing to 15 s, jittered like the edge connection's. */
const ROLLBACK_RETRY: BackoffPolicy = { initialMs: 1000, maxMs: 15_000 };
/** Errors of a host that may come back; a wrong key or a refused login will not fix itself. */
const TRANSIENT_HOST_ERRORS: ReadonlySet<string> = new Set(['unreachable', 'timeout', 'connection_lost', 'ssh_failed']);

/** Whether a connection still runs commands: one `true`, within PROBE_TIMEOUT_MS. */
async function answers(open: TargetHost): Promise<boolean> {
  if (!open.connected) return false;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), PROBE_TIMEOUT_MS);
  });
  try {
    const result = await Promise.race([open.run('true'), timedOut]);
    return result !== null && result.code === 0 && open.connected;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export async function createPipeline(loaded: LoadedConfig, logger: Logger): Promise<Pipeline> {
  const { config, secrets } = loaded;
  const git = gitSourceFor(loaded);
  const ha = new HomeAssistantClient({
    baseUrl: config.homeAssistant.url,
    token: secrets.homeAssistantToken,
    requestTimeoutMs: config.homeAssistant.requestTimeoutSeconds * 1000,
    checkConfigTimeoutMs: config.homeAssistant.checkConfigTimeoutSeconds * 1000,
  });
  const manifests = new ManifestStore(join(config.stateDir, 'manifests'), config.edge.target, config.host.configRoot);
  const root = config.host.configRoot;
  // Absolute links are read as Home Assistant reads them: `/config/x` is this folder's `x`.
  const configRoots = configRootsOf(config.host);
  const backupDir = config.host.backupDir;
  // What the last plan hashed on the host: the next plan reads only the files written since.
  const liveHashes = new LiveHashCache();
  // One connection, opened on first use; the promise is kept so that two callers at once (a job and
  // the backup inventory) share it instead of each opening one. Before a job reuses it, one round
  // trip proves it still works: a connection that dropped (the host rebooted, the network blinked,
  // or the drop is not even noticed yet) is replaced, so the job connects again instead of failing
  // on a dead connection until the relay is restarted.
  let hostConnection: Promise<TargetHost> | null = null;
  const host = async (): Promise<TargetHost> => {
    const current = hostConnection;
    if (current) {
      const open = await current.catch(() => null);
      if (open && (await answers(open))) return open;
      if (hostConnection === current) {
        hostConnection = null;
        if (open) {
          logger.warn(`the connection to ${open.description} was lost; connecting again`);
          void open.close().catch(() => undefined);
        }
      }
    }
    return (hostConnection ??= openTargetHost(loaded).catch((error: unknown) => {
      hostConnection = null;
      throw error;
    }));
  };

  const verifyTimeoutMs = (lanyard: LanyardFile) => (lanyard.verify.timeoutSeconds ?? config.homeAssistant.verifyTimeoutSeconds) * 1000;
  const requiredEntities = (lanyard: LanyardFile) => [...config.homeAssistant.requiredEntities, ...lanyard.verify.entities];

  /** The commit's lanyard.yaml, or the defaults; a broken one fails the job before anything is written. */
  async function readLanyardFile(sha: string, subfolder: string): Promise<LanyardFile> {
    const text = await git.readCommitFile(sha, subfolder ? `${subfolder}/lanyard.yaml` : 'lanyard.yaml');
    if (!text) return DEFAULT_LANYARD_FILE;
    const parsed = parseLanyardFile(text.toString('utf8'));
    if (!parsed.ok) throw new StepFailure('plan', 'bad_lanyard_file', parsed.error.message);
    return parsed.value;
  }

  /** Old and new configuration.yaml, so a change to reloadable sections only needs no restart. */
  async function configurationTexts(sha: string, plan: Plan, target: TargetHost) {
    if (!plan.toWrite.some((f) => f.path === 'configuration.yaml')) return {};
    const subfolder = config.git.subfolder;
    const after = await git.readCommitFile(sha, subfolder ? `${subfolder}/configuration.yaml` : 'configuration.yaml');
    const before = await readHostFile(target, `${root}/configuration.yaml`);
    return { configurationYaml: { before: before?.toString('utf8') ?? null, after: after?.toString('utf8') ?? null } };
  }

  async function verify(steps: StepRunner, activation: Activation, lanyard: LanyardFile, restart: RestartRequest | null = null): Promise<string> {
    const readiness = await ha.waitUntilRunning({
      timeoutMs: verifyTimeoutMs(lanyard),
      requiredEntities: requiredEntities(lanyard),
      afterRestart: activation === 'restart',
      onWait: (elapsedMs: number) => steps.heartbeat(`waiting for Home Assistant (${Math.round(elapsedMs / 1000)} s)`),
    });
    if (!readiness.ready) throw new StepFailure('verify', 'not_running', `Home Assistant did not come back healthy: ${readiness.message}`);
    // An unanswered restart request is normal (HA drops the connection as it stops), but if HA was
    // then never seen going down either, it never restarted and still runs the old configuration.
    if (restart && !restart.acknowledged && !readiness.sawDown) {
      throw new StepFailure(
        'verify',
        'not_restarted',
        `Home Assistant did not restart: the restart request got no answer (${restart.detail ?? 'no detail'}) and Home Assistant never went down, so it still runs the previous configuration`,
      );
    }
    return `Home Assistant running (${(readiness.tookMs / 1000).toFixed(1)} s)`;
  }

  /**
   * Restores `backup` writing only what a deploy may write: never a protected path (the built-in
   * ones, the relay's deploy.protect, and lanyard.yaml's protect of each commit involved and of the
   * branch as last fetched), never a path outside the config folder, never an unsafe link,
   * whatever the archive holds.
   */
  async function restoreBackup(target: TargetHost, backup: BackupRecord, shas: readonly (string | null | undefined)[]): Promise<RestoreReport> {
    const protect = [...config.deploy.protect];
    const head = await git.cachedBranchHead();
    for (const sha of new Set([backup.baseSha, head, ...shas])) {
      if (!sha || !/^[0-9a-f]{40}$/.test(sha) || /^0+$/.test(sha)) continue;
      // A commit the cache no longer has (or a broken lanyard.yaml) adds no globs; the built-in
      // ones and the relay's own still hold.
      const lanyard = await readLanyardFile(sha, config.git.subfolder).catch((error: unknown) => {
        logger.warn(`restoring ${backup.id}: could not read lanyard.yaml of ${sha.slice(0, 7)} for its protect globs: ${String(error)}`);
        return null;
      });
      if (lanyard) protect.push(...lanyard.protect);
    }
    return restoreArchive(target, root, backup.archive.path, backup.absent, { configRoot: configRoots, protect });
  }

  const restoredSummary = (b: BackupRecord, r: RestoreReport) =>
    `restored ${plural(r.restored.length, 'file')}, removed ${plural(r.removed.length, 'added file')}${describeMoved(r.moved)} from backup ${b.id}${describeSkipped(r.skipped)}`;

  /**
   * The host for a rollback. The deploy may have failed because the connection dropped halfway
   * through, and the house must not stay half-written: a host that cannot be reached is tried again,
   * with a growing pause, for up to ROLLBACK_RECONNECT_MS, keeping the edge's lease alive meanwhile.
   */
  async function hostForRollback(steps: StepRunner): Promise<TargetHost> {
    const deadline = Date.now() + ROLLBACK_RECONNECT_MS;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await host();
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        const delay = backoffDelay(attempt - 1, ROLLBACK_RETRY);
        if (typeof code !== 'string' || !TRANSIENT_HOST_ERRORS.has(code) || Date.now() + delay > deadline) throw error;
        const why = error instanceof Error ? error.message : String(error);
        steps.heartbeat(`cannot reach the host to roll back (attempt ${attempt}: ${why}); trying again in ${(delay / 1000).toFixed(1)} s`);
        logger.warn(`rollback: cannot reach the host (attempt ${attempt}): ${why}; trying again in ${(delay / 1000).toFixed(1)} s`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /** Where a job's upload waits on the host before it is moved into place (and what a rollback removes with `rm -rf`). */
  const stagingDirOf = (jobId: string) => pathInside(`${root}/.lanyard/staging`, JOB_ID_SHAPE, jobId);

  async function discardStaging(target: TargetHost, stagingDir: string): Promise<void> {
    const result = await target.run(`rm -rf ${shellQuote(stagingDir)}`);
    if (result.code !== 0) throw new Error(`removing the staging folder ${stagingDir} failed on ${target.description}: ${result.stderr.trim()}`);
  }

  /** Restores the backup after a failure in apply…verify and brings HA back; never throws. */
  async function rollBack(steps: StepRunner, backup: BackupRecord, context: DeployContext, failure: string, lanyard: LanyardFile): Promise<JobOutcome> {
    const summary: Partial<DeploymentSummary> = { backupId: backup.id };
    // Once the files are back, a Home Assistant that still is not healthy is not a reason to
    // tell anyone to restore by hand: that is done.
    let restored = false;
    try {
      // The connection the rollback reached the host through, for the pruning after it.
      const reached: { host: TargetHost | null } = { host: null };
      await steps.step('rollback', async () => {
        const target = (reached.host = await hostForRollback(steps));
        const report = await restoreBackup(target, backup, [steps.job.sha, context.newManifest?.sha]);
        await manifests.write(target, backup.manifest as Manifest | null);
        // An upload cut off (a failure, or the relay killed mid-apply) leaves its staging folder;
        // nothing else ever removes it, since every job stages under its own id.
        await discardStaging(target, stagingDirOf(steps.job.jobId));
        restored = true;
        // Home Assistant only needs to reload or restart if it had picked up the new files.
        if (context.activated && context.activation) {
          // It may still be down from the deploy's own restart (the relay was killed while it
          // restarted): a restart or reload asked of it now is lost, and it would come back on
          // whatever files it read while starting. Once it runs, it is asked again.
          await verify(steps, 'none', lanyard);
          await activate(ha, context.activation);
          await verify(steps, context.activation.activation, lanyard);
        } else {
          await ha.ping();
        }
        return report;
      }, (r) => restoredSummary(backup, r));
      // Failed deploys take backups too; the limit holds for them as well.
      if (reached.host) await pruneBackups(reached.host, backupDir, config.deploy.keepBackups, [backup.id]).catch((error: unknown) => logger.warn(`could not prune old backups: ${String(error)}`));
      return { status: 'rolled_back', reason: failure, summary };
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      if (restored) {
        return { status: 'failed', reason: `${failure}; the files were restored from backup ${backup.id}, but afterwards ${why}`, summary };
      }
      return { status: 'failed', reason: `${failure}; the rollback failed too: ${why}. Restore by hand with: relay rollback --to ${backup.id}`, summary };
    }
  }

  async function deploy(job: JobMessage, steps: StepRunner): Promise<JobOutcome> {
    const summary: Partial<DeploymentSummary> = {};
    try {
      return await deployInto(job, steps, summary);
    } catch (error) {
      // A failure before anything was written (later failures roll back inside): the host is as
      // it was; what was learned so far (drift, the backup) still goes into the report.
      return { status: 'failed', reason: error instanceof Error ? error.message : String(error), summary };
    }
  }

  async function deployInto(job: JobMessage, steps: StepRunner, summary: Partial<DeploymentSummary>): Promise<JobOutcome> {
    const context = steps.context as DeployContext;
    const driftPolicy = driftPolicyOf(job.driftPolicy, config.deploy.allowDriftOverwrite);
    await steps.step('fetch', () => git.fetchCommit(job.sha), (c) => `commit ${shortSha(job.sha)} "${firstLine(c.message).slice(0, 120)}" by ${c.author}`);

    const subfolder = config.git.subfolder;
    const lanyard = await readLanyardFile(job.sha, subfolder);
    // The manifest in force, read once: the plan compares with it and the backup records it.
    let previousManifest: Manifest | null = null;
    // Reached only once the commit itself passed: a commit refused for what it holds alone never
    // touches the host, not even to connect.
    let target!: TargetHost;
    const plan: Plan = await steps.step(
      'plan',
      async () => {
        // Everything the commit alone decides comes first: a refused first deploy of 15,000 files
        // costs the git listing, not a hashing of the whole host.
        const commitFiles = await git.listCommitFiles(job.sha, subfolder || undefined);
        const commit = checkCommit({
          commitFiles: commitFiles.files,
          submodules: commitFiles.skipped,
          include: config.deploy.include,
          repoInclude: lanyard.include,
          exclude: [...config.deploy.exclude, ...lanyard.exclude],
          protect: [...config.deploy.protect, ...lanyard.protect],
          configRoot: configRoots,
        });
        if (commit.refused.length) throw new StepFailure('plan', 'path_refused', new PathsRefused(commit.refused).message);
        target = await host();
        const [live, previous] = await Promise.all([hashLiveTree(target, root, liveHashes), manifests.read(target)]);
        previousManifest = previous;
        const planned = planOnHost(commit, {
          commitSha: job.sha,
          liveFiles: live.files,
          unhashedLivePaths: live.unhashed,
          previousManifest: previous,
          driftPolicy,
        });
        // Unsafe paths fail the plan; drift under `stop` is reported by its own step below.
        if (planned.error?.code === 'PathRefused') throw new StepFailure('plan', 'path_refused', planned.error.message);
        // A read-only folder is found before the backup, not halfway through the moves.
        await checkWritable(target, root, planned.toWrite.map((f) => f.path), planned.toDelete);
        return planned;
      },
      (p) =>
        `${plural(p.toWrite.length, 'file')} to write, ${plural(p.toDelete.length, 'file')} to delete, ${p.unchanged.length} unchanged` +
        (p.firstDeploy ? ` (first deploy: adopted ${p.adopted.length}, replacing ${p.adoptDiffers.length})` : '') +
        (p.skippedProtected.length ? `; protected, not written: ${p.skippedProtected.map((s) => s.path).join(', ')}` : '') +
        (p.submodules.length ? `; submodules, not deployed: ${p.submodules.join(', ')}` : ''),
    );
    summary.drift = plan.drift.map((d) => d.path);

    await steps.step('drift', async () => {
      if (plan.error) throw new StepFailure('drift', 'drift_detected', `${plan.error.message}${driftCeilingNote(job.driftPolicy, config.deploy.allowDriftOverwrite, loaded.path)}`);
      return plan.drift;
    }, (drift) => (drift.length ? `${plural(drift.length, 'file')} changed on the host (${driftPolicy}): ${drift.map((d) => d.path).join(', ')}` : 'no drift'));

    const changes = [...plan.toWrite.map((f) => f.path), ...plan.toDelete];
    if (!changes.length) {
      await steps.step('record', () => manifests.write(target, plan.manifest), () => 'nothing changed; manifest recorded');
      return { status: 'succeeded', reason: null, summary: { ...summary, activation: 'none' } };
    }

    const backup = await steps.step('backup', async () => {
      const pendingBackupId = newBackupId(job.jobId);
      await steps.note({ pendingBackupId } satisfies DeployContext);
      const previous = previousManifest as Manifest | null;
      const liveSet = new Set(plan.livePaths);
      const scope = lanyard.backup.scope ?? config.deploy.backupScope;
      return takeBackup(target, {
        id: pendingBackupId,
        jobId: job.jobId,
        reason: `before ${job.kind} of ${job.sha.slice(0, 7)}`,
        scope,
        root,
        backupDir,
        files: scope === 'full' ? plan.livePaths : plan.mustBackup,
        absent: plan.toWrite.map((f) => f.path).filter((p) => !liveSet.has(p)),
        baseSha: previous?.sha ?? null,
        manifest: previous,
        manifestOnHost: manifests.hostPath,
        protect: [...config.deploy.protect, ...lanyard.protect],
      });
    }, (b) => `${b.id}: ${plural(b.archive.entries, 'file')}, ${b.archive.bytes} bytes, sha256 ${b.archive.sha256.slice(0, 12)}…`);
    summary.backupId = backup.id;
    const activation = decideActivation(plan.toWrite.map((f) => f.path), plan.toDelete, lanyard.activation, await configurationTexts(job.sha, plan, target));
    await steps.note({ backupId: backup.id, activation, newManifest: plan.manifest } satisfies DeployContext);

    try {
      const { bytes } = await steps.step('apply', async () => {
        const writes = plan.toWrite.map((f) => f.path);
        // git makes the tar from its own objects and it is gzipped on its way into the host: the
        // files are never written to the relay's disk, nor held in its memory whole.
        const made = await git.archiveCommitFiles(job.sha, writes, config.git.subfolder || undefined);
        const upload = compressUpload(made.tar, made.finished, made.stop);
        const staging = stagingDirOf(job.jobId);
        await stageArchive(target, staging, upload.archive);
        const archiveBytes = await upload.finished;
        const moved = await moveIntoPlace(target, root, staging, writes, plan.toDelete, (done, total) => {
          if (total > MOVE_CHUNK) steps.heartbeat(`apply: ${done} of ${total} files in place`);
          if (total > MOVE_CHUNK) logger.info(`${job.jobId} apply: ${done} of ${total} files in place`);
        });
        return { bytes: archiveBytes, moved };
      }, ({ bytes: n, moved }) => `wrote ${plural(plan.toWrite.length, 'file')}, deleted ${plural(plan.toDelete.length, 'file')}${describeMoved(moved)} (${n} bytes sent)`);
      summary.bytesSent = bytes;
      summary.filesChanged = plan.toWrite.map((f) => f.path);
      summary.filesDeleted = plan.toDelete;

      await steps.step('check', async () => {
        const check = await ha.checkConfig();
        if (!check.valid) throw new StepFailure('check', 'config_invalid', `Home Assistant says the configuration is invalid: ${check.errors}`);
        return check;
      }, () => 'configuration valid');

      summary.activation = activation.activation;
      summary.reloadedDomains = activation.reloadDomains;
      let restartRequest: RestartRequest | null = null;
      await steps.step('activate', async () => {
        await steps.note({ activated: true } satisfies DeployContext);
        restartRequest = await activate(ha, activation);
        return activation;
      }, (a) => (a.activation === 'restart' ? `restarted Home Assistant (${a.reasons[0]?.why ?? 'a change needs it'})` : a.activation === 'reload' ? `reloaded ${a.reloadDomains.join(', ')}` : 'nothing to reload'));

      await steps.step('verify', () => verify(steps, activation.activation, lanyard, restartRequest), (text) => text);
    } catch (error) {
      const failure = error instanceof Error ? error.message : String(error);
      await steps.note({ firstFailure: failure } satisfies DeployContext);
      const outcome = await rollBack(steps, backup, context, failure, lanyard);
      return { ...outcome, summary: { ...summary, ...outcome.summary } };
    }

    await steps.step('record', async () => {
      await manifests.write(target, plan.manifest);
      return pruneBackups(target, backupDir, config.deploy.keepBackups, [backup.id]);
    }, (pruned) => `manifest of ${job.sha.slice(0, 7)} recorded${pruned.length ? `; pruned ${plural(pruned.length, 'old backup')}` : ''}`);
    return { status: 'succeeded', reason: null, summary };
  }

  /** A rollback to a kept backup: restore → activate → verify, the same way as after a failure. */
  async function restore(job: JobMessage, backupId: string, steps: StepRunner): Promise<JobOutcome> {
    const target = await host();
    const { backup, report } = await steps.step('restore', async () => {
      const record = await findBackup(target, backupDir, backupId);
      const onHost = await manifests.read(target).catch(() => null);
      const restored = await restoreBackup(target, record, [onHost?.sha]);
      await manifests.write(target, record.manifest as Manifest | null);
      return { backup: record, report: restored };
    }, (r) => restoredSummary(r.backup, r.report));
    const activation = decideActivation([...report.restored, ...report.removed], [], {});
    try {
      await steps.step('activate', () => activate(ha, activation), () => activation.activation);
      await steps.step('verify', () => verify(steps, activation.activation, DEFAULT_LANYARD_FILE), (t) => t);
    } catch (error) {
      return { status: 'failed', reason: `restored ${backup.id}, but ${error instanceof Error ? error.message : String(error)}`, summary: { backupId: backup.id } };
    }
    void job;
    return { status: 'succeeded', reason: null, summary: { backupId: backup.id, activation: activation.activation, filesChanged: report.restored, filesDeleted: report.removed } };
  }

  async function execute(job: JobMessage, steps: StepRunner): Promise<JobOutcome> {
    try {
      if (job.kind === 'rollback' && job.backupId) return await restore(job, job.backupId, steps);
      return await deploy(job, steps);
    } catch (error) {
      // A failure before anything was written: the host is as it was.
      const reason = error instanceof Error ? error.message : String(error);
      return { status: 'failed', reason, summary: {} };
    }
  }

  // The sensor and notifications get a client of their own with a short timeout: a hung HA must
  // not hold up the job's report.
  const outward = houseOutward({
    ha: new HomeAssistantClient({ baseUrl: config.homeAssistant.url, token: secrets.homeAssistantToken, requestTimeoutMs: Math.min(5, config.homeAssistant.requestTimeoutSeconds) * 1000 }),
    config,
    logger,
  });
  return withHouseOutward<Pipeline>({
    execute,
    async recover(entry: JournalEntry, steps: StepRunner): Promise<JobOutcome> {
      const context = entry.context as DeployContext;
      if (!WRITING_STEPS.includes(entry.step) && entry.step !== 'record') {
        const pending = context.pendingBackupId;
        if (pending) await host().then((target) => discardUnrecordedBackup(target, backupDir, pending)).catch((error: unknown) => logger.warn(`could not remove the unfinished backup ${pending}: ${String(error)}`));
        logger.info(`job ${entry.job.jobId} stopped at ${entry.step}, before anything was written; running it again`);
        return execute(entry.job, steps);
      }
      const target = await host();
      if (entry.step === 'record' && context.newManifest) {
        await steps.step('record', () => manifests.write(target, context.newManifest!), () => 'manifest recorded after restart');
        return { status: 'succeeded', reason: null, summary: { backupId: context.backupId ?? null } };
      }
      if (entry.job.kind === 'rollback' && entry.job.backupId) return execute(entry.job, steps);
      if (!context.backupId) return { status: 'failed', reason: `the relay stopped during ${entry.step} and its journal names no backup`, summary: {} };
      const backup = await findBackup(target, backupDir, context.backupId);
      const failure = context.firstFailure ?? `the relay was stopped during ${entry.step}`;
      return rollBack(steps, backup, context, failure, DEFAULT_LANYARD_FILE);
    },
    breakGlassRestore: async (backupId: string) => {
      // Its own journal: a manual restore must not look like an edge job to the daemon.
      const journal = new Journal(join(config.stateDir, 'break-glass-journal'));
      await journal.open();
      const job: JobMessage = {
        type: 'job',
        // Shaped like the edge's ids so every guard takes it; its journal is its own, so it never meets an edge job.
        jobId: newId('dep'),
        attempt: 1,
        kind: 'rollback',
        target: config.edge.target,
        sha: '0'.repeat(40),
        ref: `refs/heads/${config.git.branch}`,
        backupId,
        driftPolicy: 'stop',
        requestedBy: 'relay rollback (break glass)',
      };
      const steps = new StepRunner(job, journal, () => undefined, logger, {}, Date.now(), 'restore');
      try {
        return await restore(job, backupId, steps);
      } catch (error) {
        return { status: 'failed', reason: error instanceof Error ? error.message : String(error), summary: {} };
      }
    },
    // For the edge's inventory (relay/backup-inventory.ts): what `relay backups` lists.
    backups: async () => listBackups(await host(), backupDir),
    async close() {
      const opening = hostConnection;
      hostConnection = null;
      const open = await opening?.catch(() => null);
      await open?.close();
    },
  }, outward);
}
