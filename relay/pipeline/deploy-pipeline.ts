// The pipeline: what actually happens to the house.
//
//   fetch → plan → drift → backup → apply → check → activate → verify → record
//                                     └──────── any failure ────────┘→ rollback
//
// Nothing is written to the host before the backup has been read back and verified. From the
// moment files are written, any failure (and a kill, through the journal) ends in a restore of that
// backup; the deployment then ends `rolled_back` with the first failure's reason.
//
// This file assembles the pipeline from its parts: the steps of a deploy (deploy-steps.ts), the
// rollback and restore (rollback.ts), the host connection (host-connection.ts), and the recovery
// of a job the relay was stopped in the middle of.
import { join } from 'node:path';
import type { CaptureMessage } from '../../shared/drift.ts';
import { captureHostEdits } from '../capture/capture-host-edits.ts';
import type { PlanMessage } from '../../shared/pull-plan.ts';
import { planPullRequest } from '../pull-plan/plan-pull-request.ts';
import type { StepName } from '../../shared/deployment.ts';
import { newId } from '../../shared/ids.ts';
import type { JobMessage } from '../../shared/protocol.ts';
import { configRootsOf, type LoadedConfig } from '../config.ts';
import { HomeAssistantClient } from '../home-assistant/client.ts';
import { createHouseAlerts } from '../outward/house-alerts.ts';
import { houseOutward, withHouseOutward } from '../outward/house-outward.ts';
import type { JobExecutor } from '../job-runner.ts';
import type { JournalEntry } from '../journal.ts';
import type { Logger } from '../log.ts';
import { Journal } from '../journal.ts';
import { StepRunner, type JobOutcome } from '../step-runner.ts';
import { discardUnrecordedBackup, findBackup, listBackups } from './backups.ts';
import { deploy } from './deploy-steps.ts';
import { gitSourceFor } from './git-source.ts';
import { HostConnection } from './host-connection.ts';
import { DEFAULT_LANYARD_FILE } from './lanyard-file.ts';
import { LiveHashCache } from './live-tree.ts';
import { ManifestStore } from './manifest-store.ts';
import type { DeployContext, PipelineParts } from './pipeline-parts.ts';
import { restoreKept, rollBack } from './rollback.ts';
import { DriftLook } from '../watch/drift-look.ts';

/** Steps after which the host may differ from the backup: a crash here means restore. */
const WRITING_STEPS: readonly StepName[] = ['apply', 'check', 'activate', 'verify', 'rollback', 'restore'];

export interface Pipeline extends JobExecutor {
  breakGlassRestore(backupId: string): Promise<JobOutcome>;
  /**
   * What the daemon does as it starts, before any job: fetches the branch into the git cache and
   * hashes its files, so the first push's job fetches and hashes only what changed since. Never
   * throws: a remote that cannot be reached now is the job's to report.
   */
  warmUp(): Promise<void>;
  close(): Promise<void>;
}

export async function createPipeline(loaded: LoadedConfig, logger: Logger): Promise<Pipeline> {
  const { config, secrets } = loaded;
  const connection = new HostConnection(loaded, logger);
  const host = connection.host;
  const parts: PipelineParts = {
    loaded,
    config,
    logger,
    git: gitSourceFor(loaded),
    ha: new HomeAssistantClient({
      baseUrl: config.homeAssistant.url,
      token: secrets.homeAssistantToken,
      requestTimeoutMs: config.homeAssistant.requestTimeoutSeconds * 1000,
      checkConfigTimeoutMs: config.homeAssistant.checkConfigTimeoutSeconds * 1000,
    }),
    manifests: new ManifestStore(join(config.stateDir, 'manifests'), config.edge.target, config.host.configRoot),
    root: config.host.configRoot,
    configRoots: configRootsOf(config.host),
    backupDir: config.host.backupDir,
    liveHashes: new LiveHashCache(),
    host,
  };
  const { manifests, backupDir } = parts;
  // The drift watch's looks share the pipeline's host connection, git cache and live hash cache.
  const driftLook = new DriftLook(parts);

  async function execute(job: JobMessage, steps: StepRunner): Promise<JobOutcome> {
    try {
      if (job.kind === 'rollback' && job.backupId) return await restoreKept(parts, job, job.backupId, steps);
      return await deploy(parts, job, steps);
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
      const newManifest = entry.step === 'record' ? (context.newManifest ?? (context.newManifestPending ? await manifests.readPending(entry.job.jobId) : null)) : null;
      if (newManifest) {
        await steps.step('record', () => manifests.write(target, newManifest), () => 'manifest recorded after restart');
        return { status: 'succeeded', reason: null, summary: { backupId: context.backupId ?? null } };
      }
      if (entry.job.kind === 'rollback' && entry.job.backupId) return execute(entry.job, steps);
      if (!context.backupId) return { status: 'failed', reason: `the relay stopped during ${entry.step} and its journal names no backup`, summary: {} };
      const backup = await findBackup(target, backupDir, context.backupId);
      const failure = context.firstFailure ?? `the relay was stopped during ${entry.step}`;
      return rollBack(parts, steps, backup, context, failure, DEFAULT_LANYARD_FILE);
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
        return await restoreKept(parts, job, backupId, steps);
      } catch (error) {
        return { status: 'failed', reason: error instanceof Error ? error.message : String(error), summary: {} };
      }
    },
    // Alerts from the edge to the house's notify services (issue 18): only when the config names some.
    ...(config.alerts.notify.length
      ? {
          alert: createHouseAlerts({
            ha: new HomeAssistantClient({ baseUrl: config.homeAssistant.url, token: secrets.homeAssistantToken, requestTimeoutMs: Math.min(10, config.homeAssistant.requestTimeoutSeconds) * 1000 }),
            services: config.alerts.notify,
            logger,
          }),
        }
      : {}),
    // Pull-request plans (relay/pull-plan/): read-only, from the relay's own remote.
    planPull: (message: PlanMessage) => planPullRequest(parts, message),
    // Host edits as a branch (relay/capture/): only when the relay is set up to push one.
    ...(config.capture ? { capture: (message: CaptureMessage) => captureHostEdits(parts, message) } : {}),
    // For the edge's inventory (relay/backup-inventory.ts): what `relay backups` lists.
    backups: async () => listBackups(await host(), backupDir),
    lookForDrift: async () => {
      const report = await driftLook.look();
      const stats = driftLook.last;
      if (stats && stats.hashed > 0) logger.info(`drift watch: listed ${stats.listed} files, hashed ${stats.hashed}, read ${stats.diffReads} for diffs`);
      return report;
    },
    async warmUp() {
      const started = Date.now();
      try {
        const head = await parts.git.fetchBranch();
        const listed = await parts.git.listCommitFiles(head, config.git.subfolder || undefined);
        logger.info(`git cache warm: ${config.git.branch} at ${head.slice(0, 7)}, ${listed.files.length} files hashed in ${Date.now() - started} ms`);
      } catch (error) {
        logger.warn(`could not warm the git cache (the first job will fetch): ${error instanceof Error ? error.message : String(error)}`);
      }
    },
    async close() {
      await connection.close();
    },
  }, outward);
}
