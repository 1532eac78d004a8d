// Putting a backup back: after a failed deploy (rollBack, which never throws and says how to
// restore by hand if it cannot), or on request, to a kept backup (restoreKept). Either way only what
// a deploy may write is written, then Home Assistant is brought back and verified.
import type { DeploymentSummary } from '../../shared/deployment.ts';
import type { JobMessage } from '../../shared/protocol.ts';
import type { JobOutcome, StepRunner } from '../step-runner.ts';
import { shellQuote, type TargetHost } from '../transport/target-host.ts';
import { activate } from './activate.ts';
import { decideActivation } from './activation-map.ts';
import { describeSkipped, restoreArchive, type RestoreReport } from './archive-restore.ts';
import { findBackup, pruneBackups, type BackupRecord } from './backups.ts';
import { readLanyardFile } from './commit-texts.ts';
import { hostForRollback } from './host-connection.ts';
import { DEFAULT_LANYARD_FILE, type LanyardFile } from './lanyard-file.ts';
import type { Manifest } from './manifest.ts';
import { describeMoved } from './move-into-place.ts';
import { plural, stagingDirOf, type DeployContext, type PipelineParts } from './pipeline-parts.ts';
import { verifyRunning } from './verify-running.ts';

/**
 * Restores `backup` writing only what a deploy may write: never a protected path (the built-in
 * ones, the relay's deploy.protect, and lanyard.yaml's protect of each commit involved and of the
 * branch as last fetched), never a path outside the config folder, never an unsafe link,
 * whatever the archive holds.
 */
async function restoreBackup(parts: PipelineParts, target: TargetHost, backup: BackupRecord, shas: readonly (string | null | undefined)[]): Promise<RestoreReport> {
  const { config, git, logger, root, configRoots } = parts;
  const protect = [...config.deploy.protect];
  const head = await git.cachedBranchHead();
  for (const sha of new Set([backup.baseSha, head, ...shas])) {
    if (!sha || !/^[0-9a-f]{40}$/.test(sha) || /^0+$/.test(sha)) continue;
    // A commit the cache no longer has (or a broken lanyard.yaml) adds no globs; the built-in
    // ones and the relay's own still hold.
    const lanyard = await readLanyardFile(parts, sha, config.git.subfolder).catch((error: unknown) => {
      logger.warn(`restoring ${backup.id}: could not read lanyard.yaml of ${sha.slice(0, 7)} for its protect globs: ${String(error)}`);
      return null;
    });
    if (lanyard) protect.push(...lanyard.protect);
  }
  return restoreArchive(target, root, backup.archive.path, backup.absent, { configRoot: configRoots, protect });
}

function restoredSummary(b: BackupRecord, r: RestoreReport): string {
  return `restored ${plural(r.restored.length, 'file')}, removed ${plural(r.removed.length, 'added file')}${describeMoved(r.moved)} from backup ${b.id}${describeSkipped(r.skipped)}`;
}

async function discardStaging(target: TargetHost, stagingDir: string): Promise<void> {
  const result = await target.run(`rm -rf ${shellQuote(stagingDir)}`);
  if (result.code !== 0) throw new Error(`removing the staging folder ${stagingDir} failed on ${target.description}: ${result.stderr.trim()}`);
}

/** Restores the backup after a failure in apply…verify and brings HA back; never throws. */
export async function rollBack(parts: PipelineParts, steps: StepRunner, backup: BackupRecord, context: DeployContext, failure: string, lanyard: LanyardFile): Promise<JobOutcome> {
  const { config, ha, logger, manifests, backupDir } = parts;
  const summary: Partial<DeploymentSummary> = { backupId: backup.id };
  // Once the files are back, a Home Assistant that still is not healthy is not a reason to
  // tell anyone to restore by hand: that is done.
  let restored = false;
  try {
    // The connection the rollback reached the host through, for the pruning after it.
    const reached: { host: TargetHost | null } = { host: null };
    await steps.step('rollback', async () => {
      const target = (reached.host = await hostForRollback(parts.host, logger, steps));
      const report = await restoreBackup(parts, target, backup, [steps.job.sha]);
      await manifests.write(target, backup.manifest as Manifest | null);
      // An upload cut off (a failure, or the relay killed mid-apply) leaves its staging folder;
      // nothing else ever removes it, since every job stages under its own id.
      await discardStaging(target, stagingDirOf(parts, steps.job.jobId));
      restored = true;
      // Home Assistant only needs to reload or restart if it had picked up the new files.
      if (context.activated && context.activation) {
        // It may still be down from the deploy's own restart (the relay was killed while it
        // restarted): a restart or reload asked of it now is lost, and it would come back on
        // whatever files it read while starting. Once it runs, it is asked again.
        await verifyRunning(parts, steps, 'none', lanyard);
        await activate(ha, context.activation);
        await verifyRunning(parts, steps, context.activation.activation, lanyard);
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

/** A rollback to a kept backup: restore → activate → verify, the same way as after a failure. */
export async function restoreKept(parts: PipelineParts, job: JobMessage, backupId: string, steps: StepRunner): Promise<JobOutcome> {
  const { ha, manifests, backupDir } = parts;
  const target = await parts.host();
  const { backup, report } = await steps.step('restore', async () => {
    const record = await findBackup(target, backupDir, backupId);
    const onHost = await manifests.read(target).catch(() => null);
    const restored = await restoreBackup(parts, target, record, [onHost?.sha]);
    await manifests.write(target, record.manifest as Manifest | null);
    return { backup: record, report: restored };
  }, (r) => restoredSummary(r.backup, r.report));
  const activation = decideActivation([...report.restored, ...report.removed], [], {});
  try {
    await steps.step('activate', () => activate(ha, activation), () => activation.activation);
    await steps.step('verify', () => verifyRunning(parts, steps, activation.activation, DEFAULT_LANYARD_FILE), (t) => t);
  } catch (error) {
    return { status: 'failed', reason: `restored ${backup.id}, but ${error instanceof Error ? error.message : String(error)}`, summary: { backupId: backup.id } };
  }
  void job;
  return { status: 'succeeded', reason: null, summary: { backupId: backup.id, activation: activation.activation, filesChanged: report.restored, filesDeleted: report.removed } };
}
