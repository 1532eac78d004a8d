// One deploy, step by step: fetch → plan → drift → backup → apply → check → activate → verify →
// record. Nothing is written before the backup is verified; a failure from apply on rolls back.
import { firstLine, shortSha } from '../../shared/commit.ts';
import type { DeploymentSummary } from '../../shared/deployment.ts';
import type { JobMessage } from '../../shared/protocol.ts';
import { tagOfRef } from '../../shared/release-tag.ts';
import type { RestartRequest } from '../home-assistant/client.ts';
import { StepFailure, type JobOutcome, type StepRunner } from '../step-runner.ts';
import type { TargetHost } from '../transport/target-host.ts';
import { activate } from './activate.ts';
import { decideActivation, type ActivationDecision } from './activation-map.ts';
import { newBackupId, pruneBackups, takeBackup, type BackupRecord } from './backups.ts';
import { configurationTexts, readLanyardFile } from './commit-texts.ts';
import { homeAssistantBackupStep } from './ha-backup-step.ts';
import { driftApiNote, driftCeilingNote, driftPolicyOf } from './drift-policy.ts';
import { mergedTextsToWrite, stageMergedTexts } from './host-merges.ts';
import { describeConflicts } from '../merge/merge-conflict.ts';
import type { MergeResult } from '../merge/three-way-merge.ts';
import type { LanyardFile } from './lanyard-file.ts';
import { planAgainstHost } from './plan-against-host.ts';
import type { Manifest } from './manifest.ts';
import { checkWritable, describeMoved, MOVE_CHUNK, moveIntoPlace, stageArchive } from './move-into-place.ts';
import { plural, stagingDirOf, type DeployContext, type PipelineParts } from './pipeline-parts.ts';
import { PathsRefused, type Plan } from './plan.ts';
import { rollBack } from './rollback.ts';
import { streamUpload } from './upload.ts';
import { chooseUploadCompression } from './upload-compression.ts';
import { verifyRunning } from './verify-running.ts';

/** Runs one deploy job; a failure before anything was written fails it with the host as it was. */
export async function deploy(parts: PipelineParts, job: JobMessage, steps: StepRunner): Promise<JobOutcome> {
  const summary: Partial<DeploymentSummary> = {};
  try {
    return await deployInto(parts, job, steps, summary);
  } catch (error) {
    // A failure before anything was written (later failures roll back inside): the host is as
    // it was; what was learned so far (drift, the backup) still goes into the report.
    return { status: 'failed', reason: error instanceof Error ? error.message : String(error), summary };
  }
}

async function deployInto(parts: PipelineParts, job: JobMessage, steps: StepRunner, summary: Partial<DeploymentSummary>): Promise<JobOutcome> {
  const { loaded, config, logger, git, ha, manifests, root, backupDir } = parts;
  const context = steps.context as DeployContext;
  const driftPolicy = driftPolicyOf(job.driftPolicy, config.deploy.allowDriftOverwrite);
  // A release tag's job (issue 18): the tag, fetched from the relay's own remote, must peel to this commit on an allowed branch.
  const tag = tagOfRef(job.ref);
  await steps.step(
    'fetch',
    () => (tag ? git.fetchTaggedCommit(tag, job.sha) : git.fetchCommit(job.sha)),
    (c) => `${tag ? `tag ${tag}, ` : ''}commit ${shortSha(job.sha)} "${firstLine(c.message).slice(0, 120)}" by ${c.author}`,
  );

  const subfolder = config.git.subfolder;
  const lanyard = await readLanyardFile(parts, job.sha, subfolder);
  // The manifest in force, read once: the plan compares with it and the backup records it.
  let previousManifest: Manifest | null = null;
  // Reached only once the commit itself passed: a commit refused for what it holds alone never
  // touches the host, not even to connect.
  let target!: TargetHost;
  // Three-way merges of files changed on both sides (host-merges.ts); the plan decides with them.
  let merges = new Map<string, MergeResult>();
  const plan: Plan = await steps.step(
    'plan',
    async () => {
      // Read-only, shared with pull-request plans (plan-against-host.ts).
      const planned0 = await planAgainstHost(parts, { sha: job.sha, driftPolicy, lanyard, refusedByCommit: (commit) => {
        if (commit.refused.length) throw new StepFailure('plan', 'path_refused', new PathsRefused(commit.refused).message);
      } });
      ({ target, merges, previousManifest } = planned0);
      const planned = planned0.plan;
      // Unsafe paths fail the plan; drift under `stop` is reported by its own step below.
      if (planned.error?.code === 'PathRefused') throw new StepFailure('plan', 'path_refused', planned.error.message);
      // A read-only folder is found before the backup, not halfway through the moves.
      await checkWritable(target, root, planned.toWrite.map((f) => f.path), planned.toDelete);
      return planned;
    },
    (p) =>
      `${plural(p.toWrite.length, 'file')} to write, ${plural(p.toDelete.length, 'file')} to delete, ${p.unchanged.length} unchanged` +
      (p.firstDeploy ? ` (first deploy: adopted ${p.adopted.length}, replacing ${p.adoptDiffers.length})` : '') +
      (p.merged.length ? `; merged with the host's edits: ${p.merged.join(', ')}` : '') +
      (p.skippedProtected.length ? `; protected, not written: ${p.skippedProtected.map((s) => s.path).join(', ')}` : '') +
      (p.submodules.length ? `; submodules, not deployed: ${p.submodules.join(', ')}` : ''),
  );
  summary.drift = plan.drift.map((d) => d.path);
  if (plan.merged.length) summary.merged = plan.merged;

  const changes = [...plan.toWrite.map((f) => f.path), ...plan.toDelete];
  // What the change asks of Home Assistant (reloads or a restart) is known before anything is
  // written, and told to the edge with the drift step: a restart held for the target's window
  // (job.mayRestart) and Home Assistant's own backup both depend on it.
  const activation = changes.length && !plan.error
    ? decideActivation(plan.toWrite.map((f) => f.path), plan.toDelete, lanyard.activation, await configurationTexts(parts, job.sha, plan, target))
    : null;
  // Checked now, put back, and left for the window: the host ends as it was (docs/living-with-it.md#restart-windows).
  const holdRestart = job.mayRestart === false && activation?.activation === 'restart';

  await steps.step('drift', async () => {
    if (plan.error) {
      const ways = `${driftApiNote(job.target, job.jobId)}${driftCeilingNote(job.driftPolicy, config.deploy.allowDriftOverwrite, loaded.path)}`;
      // Files that would not merge show why, with both versions of each conflicting item.
      const conflicts = plan.mergeConflicts.map((c) => describeConflicts(c.path, c.conflicts)).join('\n');
      throw new StepFailure('drift', 'drift_detected', `${plan.error.message}${ways}${conflicts ? `\nNot merged:\n${conflicts}` : ''}`);
    }
    return plan.drift;
  }, (drift) => (drift.length ? `${plural(drift.length, 'file')} changed on the host (${driftPolicy}): ${drift.map((d) => d.path).join(', ')}` : 'no drift') + activationNote(activation, holdRestart),
  () => (activation ? { activation: activation.activation, restartHeld: holdRestart } : { activation: 'none', restartHeld: false }));

  if (!changes.length || !activation) {
    await steps.step('record', () => manifests.write(target, plan.manifest), () => 'nothing changed; manifest recorded');
    return { status: 'succeeded', reason: null, summary: { ...summary, activation: 'none' } };
  }

  // Home Assistant's own backup, before a restart (issue 18): a failure stops here, nothing written.
  const homeAssistantBackup = await homeAssistantBackupStep(parts, job, steps, activation);
  if (homeAssistantBackup) summary.homeAssistantBackup = homeAssistantBackup;

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
      manifestOnHost: { path: manifests.hostPath, sha256: manifests.checksumOf(previous) },
      protect: [...config.deploy.protect, ...lanyard.protect],
    });
  }, (b) => `${b.id}: ${plural(b.archive.entries, 'file')}, ${b.archive.bytes} bytes, sha256 ${b.archive.sha256.slice(0, 12)}…`);
  summary.backupId = backup.id;
  // Kept while the files go up; needed only once they have all landed (a relay killed in `record`).
  // A held run never records: the host keeps the manifest it has.
  const keptManifest = holdRestart ? Promise.resolve() : manifests.writePending(job.jobId, plan.manifest);
  keptManifest.catch(() => undefined);
  await steps.note({ backupId: backup.id, activation, newManifestPending: !holdRestart } satisfies DeployContext);

  try {
    const { bytes } = await steps.step('apply', async () => {
      const writes = plan.toWrite.map((f) => f.path);
      const compression = await chooseUploadCompression(config.deploy.uploadCompression, target, plan.toWrite.reduce((sum, f) => sum + f.size, 0));
      // git makes the tar from its own objects and it streams into the host as it is made: the
      // files are never written to the relay's disk, nor held in its memory whole.
      const made = await git.archiveCommitFiles(job.sha, writes, config.git.subfolder || undefined);
      const upload = streamUpload(made.tar, made.finished, made.stop, compression);
      const staging = stagingDirOf(parts, job.jobId);
      await stageArchive(target, staging, upload.archive, compression);
      const archiveBytes = await upload.finished;
      await stageMergedTexts(target, staging, mergedTextsToWrite(merges, plan.merged, plan.toWrite));
      const moved = await moveIntoPlace(target, root, staging, writes, plan.toDelete, (done, total) => {
        if (total > MOVE_CHUNK) steps.heartbeat(`apply: ${done} of ${total} files in place`);
        if (total > MOVE_CHUNK) logger.info(`${job.jobId} apply: ${done} of ${total} files in place`);
      });
      return { bytes: archiveBytes, moved, compression };
    }, ({ bytes: n, moved, compression }) => `wrote ${plural(plan.toWrite.length, 'file')}, deleted ${plural(plan.toDelete.length, 'file')}${describeMoved(moved)} (${n} bytes sent, ${compression.why})`);
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
    if (holdRestart) return await putBackForWindow(parts, steps, backup, context, lanyard, activation, summary);
    let restartRequest: RestartRequest | null = null;
    await steps.step('activate', async () => {
      await steps.note({ activated: true } satisfies DeployContext);
      restartRequest = await activate(ha, activation);
      return activation;
    }, (a) => (a.activation === 'restart' ? `restarted Home Assistant (${a.reasons[0]?.why ?? 'a change needs it'})` : a.activation === 'reload' ? `reloaded ${a.reloadDomains.join(', ')}` : 'nothing to reload'));

    await steps.step('verify', () => verifyRunning(parts, steps, activation.activation, lanyard, restartRequest), (text) => text);
  } catch (error) {
    const failure = error instanceof Error ? error.message : String(error);
    await steps.note({ firstFailure: failure } satisfies DeployContext);
    const outcome = await rollBack(parts, steps, backup, context, failure, lanyard);
    return { ...outcome, summary: { ...summary, ...outcome.summary } };
  }

  // The files are in place and Home Assistant runs them: a relay disk that could not keep the copy
  // costs only the recovery of a kill during `record`, not this deployment.
  await keptManifest.catch((error: unknown) => logger.warn(`${job.jobId}: could not keep the new manifest for recovery: ${String(error)}`));
  await steps.step('record', async () => {
    await manifests.write(target, plan.manifest);
    return pruneBackups(target, backupDir, config.deploy.keepBackups, [backup.id]);
  }, (pruned) => `manifest of ${job.sha.slice(0, 7)} recorded${pruned.length ? `; pruned ${plural(pruned.length, 'old backup')}` : ''}`);
  return { status: 'succeeded', reason: null, summary };
}

/** The restart a change needs, as the plan's reasons say it (the first path that needs one). */
function restartWhy(activation: ActivationDecision): string {
  const reason = activation.reasons.find((r) => r.need === 'restart');
  if (!reason) return 'a change needs it';
  return reason.why.includes(reason.path) ? reason.why : `${reason.path}: ${reason.why}`;
}

/** A line for the drift step: what the change will ask of Home Assistant, told before anything is written. */
function activationNote(activation: ActivationDecision | null, held: boolean): string {
  if (!activation || activation.activation === 'none') return '';
  if (activation.activation === 'reload') return `; needs a reload of ${activation.reloadDomains.join(', ')}`;
  return `; needs restart (${restartWhy(activation)})${held ? '; the edge holds it for the restart window: checked now, then put back' : ''}`;
}

/**
 * The files are in place and Home Assistant found them valid, but the edge holds the restart they
 * need for the target's window: the backup goes back with no reload and no restart (the context
 * never says `activated`, so rollBack only pings Home Assistant), no manifest is recorded, and the
 * result says the deploy waits. Home Assistant never ran the new files.
 */
async function putBackForWindow(
  parts: PipelineParts,
  steps: StepRunner,
  backup: BackupRecord,
  context: DeployContext,
  lanyard: LanyardFile,
  activation: ActivationDecision,
  summary: Partial<DeploymentSummary>,
): Promise<JobOutcome> {
  const why = `needs a restart (${restartWhy(activation)}); checked by Home Assistant and put back, waiting for the restart window`;
  const outcome = await rollBack(parts, steps, backup, context, why, lanyard);
  const held = { ...summary, ...outcome.summary, activation: 'restart' as const, reloadedDomains: [], restartHeld: true };
  if (outcome.status !== 'rolled_back') return { ...outcome, summary: held };
  return { status: 'waiting_for_window', reason: why, summary: held };
}
