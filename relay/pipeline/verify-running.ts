// After a deploy or a restore, waiting for Home Assistant to run healthy again, and telling a
// restart that never happened from one that did.
import type { Activation } from '../../shared/deployment.ts';
import type { RestartRequest } from '../home-assistant/client.ts';
import { StepFailure, type StepRunner } from '../step-runner.ts';
import type { LanyardFile } from './lanyard-file.ts';
import type { PipelineParts } from './pipeline-parts.ts';

/** Waits until Home Assistant runs with the entities it must have; says how long it took. */
export async function verifyRunning({ config, ha }: PipelineParts, steps: StepRunner, activation: Activation, lanyard: LanyardFile, restart: RestartRequest | null = null): Promise<string> {
  const readiness = await ha.waitUntilRunning({
    timeoutMs: (lanyard.verify.timeoutSeconds ?? config.homeAssistant.verifyTimeoutSeconds) * 1000,
    requiredEntities: [...config.homeAssistant.requiredEntities, ...lanyard.verify.entities],
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
