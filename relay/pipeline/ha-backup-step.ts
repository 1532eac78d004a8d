// The `ha_backup` step: before a deploy that will restart Home Assistant, Home Assistant's own backup
// of its configuration (home-assistant/home-assistant-backup.ts), named after the deployment, so its
// Backups page can restore the house as it was even without Lanyard. Lanyard's own archive (the
// `backup` step after it) stays the rollback source. Nothing has been written yet: a backup Home
// Assistant cannot make stops the deploy here, unless homeAssistant.backup.onFailure is `continue`.
import type { DeploymentSummary } from '../../shared/deployment.ts';
import type { JobMessage } from '../../shared/protocol.ts';
import { homeAssistantBackupRoute, takeHomeAssistantBackup, type HomeAssistantBackupTaken } from '../home-assistant/home-assistant-backup.ts';
import { StepFailure, type StepRunner } from '../step-runner.ts';
import type { ActivationPlan } from './activate.ts';
import type { PipelineParts } from './pipeline-parts.ts';

/** How Home Assistant's Backups page will list it: the deployment and the commit it brings. */
export function homeAssistantBackupName(job: Pick<JobMessage, 'jobId' | 'sha'>): string {
  return `Lanyard ${job.jobId} before ${job.sha.slice(0, 7)}`;
}

/** Whether this run takes one: enabled, a restart planned, and the run allowed to restart now. */
export function wantsHomeAssistantBackup(parts: Pick<PipelineParts, 'config'>, job: Pick<JobMessage, 'mayRestart'>, activation: Pick<ActivationPlan, 'activation'>): boolean {
  return parts.config.homeAssistant.backup.enabled && activation.activation === 'restart' && job.mayRestart !== false;
}

type StepResult = { taken: HomeAssistantBackupTaken } | { taken: null; why: string };

/** Runs the step when it is wanted; the summary's `homeAssistantBackup` when a backup with a slug was taken. */
export async function homeAssistantBackupStep(
  parts: PipelineParts,
  job: JobMessage,
  steps: StepRunner,
  activation: Pick<ActivationPlan, 'activation'>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<DeploymentSummary['homeAssistantBackup']> {
  if (!wantsHomeAssistantBackup(parts, job, activation)) return undefined;
  const settings = parts.config.homeAssistant.backup;
  const name = homeAssistantBackupName(job);
  const route = homeAssistantBackupRoute({ url: parts.config.homeAssistant.url, token: parts.loaded.secrets.homeAssistantToken }, env);
  const result = await steps.step(
    'ha_backup',
    async (): Promise<StepResult> => {
      try {
        return { taken: await takeHomeAssistantBackup(route, { name, timeoutMs: settings.timeoutSeconds * 1000, onWaiting: (m) => steps.heartbeat(m) }) };
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        if (settings.onFailure === 'continue') return { taken: null, why };
        throw new StepFailure('ha_backup', 'ha_backup_failed', `Home Assistant could not make its backup before this restart, so nothing was written: ${why} (homeAssistant.backup.onFailure: stop)`);
      }
    },
    (r) =>
      r.taken === null
        ? `not taken: ${r.why} Going on with Lanyard's own backup (homeAssistant.backup.onFailure: continue).`
        : r.taken.slug
          ? `Home Assistant backup ${r.taken.slug} "${r.taken.name}" (${r.taken.how})`
          : `Home Assistant made a backup with ${r.taken.how}`,
  );
  return result.taken?.slug ? { slug: result.taken.slug, name: result.taken.name } : undefined;
}
