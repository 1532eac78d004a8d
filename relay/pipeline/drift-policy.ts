// Who may overwrite what someone changed on the host: the edge asks, the relay's owner decides.
import type { DriftPolicy } from '../../shared/deployment.ts';

/**
 * The drift policy a job runs under. The edge asks for one (the target's, or the way on an operator
 * chose for one deployment), but overwriting what someone changed on the host is the host owner's
 * call: without `deploy.allowDriftOverwrite` on the relay, `overwrite` is run as `stop`
 * (report-only never writes over drift, so it stands).
 */
export function driftPolicyOf(asked: DriftPolicy, allowOverwrite: boolean): DriftPolicy {
  return asked === 'overwrite' && !allowOverwrite ? 'stop' : asked;
}

/** What a drift refusal adds when overwriting also needs the relay's consent: which line of its config to set. */
export function driftCeilingNote(asked: DriftPolicy, allowOverwrite: boolean, configPath: string): string {
  if (allowOverwrite) return '';
  if (asked === 'overwrite') {
    return ` The edge asked to overwrite them, but this relay does not let the edge overwrite changes made on the host: to allow it, set deploy.allowDriftOverwrite: true in ${configPath} and restart the relay. Capturing the edits or keeping the host's versions needs no change.`;
  }
  return ` Overwriting them also needs deploy.allowDriftOverwrite: true in ${configPath} on the relay.`;
}

/** How to take a way on from a drift refusal through the edge's API, naming this target and deployment. */
export function driftApiNote(target: string, deploymentId: string): string {
  return ` Through the API: POST /api/deployments/${target}/retry with {"deploymentId": "${deploymentId}", "drift": "keep"} (or "overwrite").`;
}
