// What the hub answers about its target without changing anything: the status (the deployment
// running, the queue, the last ones, the branch head, the relay, what it waits for, outward
// problems, the backups) and one deployment in full. History, metrics and the audit trail are one
// call to their store each and stay in the shell.
import type { DeploymentView, DroppedSteps, OutwardDelivery, StepEvent, TargetStatus } from '../../shared/api.ts';
import { quoteInput } from '../http/quote-input.ts';
import { waitingFor } from '../outward/waiting.ts';
import { readBranchHead } from './branch-head.ts';
import { ACTIVE } from './deployments.ts';
import { newestStoppedOnDrift } from './drift-choice.ts';
import { currentFreeze } from './freeze.ts';
import type { Hub } from './hub.ts';
import { accepted, refused, type HubResult } from './hub-result.ts';
import { relayView } from './relay-socket.ts';
import { restartWindowView } from './restart-windows.ts';
import { readVerdicts } from './workflow-verdicts.ts';

export interface DeploymentDetail {
  deployment: DeploymentView;
  steps: StepEvent[];
  droppedSteps: DroppedSteps | null;
  outward: OutwardDelivery[];
}

/** Everything the status page and GET /deployments/:target show of a target, read in one step. */
export function statusOf(hub: Hub, target: string): TargetStatus {
  return {
    target,
    current: hub.deployments.withStatus(ACTIVE)[0] ?? null,
    queued: hub.deployments.withStatus(['queued']),
    lastFinished: hub.deployments.latest(['succeeded', 'failed', 'rolled_back']),
    deployed: hub.deployments.latest(['succeeded']),
    branchHead: readBranchHead(hub.meta),
    relay: relayView(hub),
    waiting: waiting(hub),
    outward: hub.outbox.view(Date.now()),
    backups: hub.backupInventory.read(),
    drift: hub.driftReports.read(),
    stoppedOnDrift: newestStoppedOnDrift(hub)?.id ?? null,
    freeze: currentFreeze(hub),
    restartWindow: restartWindowView(hub, Date.now()),
  };
}

/** A commit the target has seen but waits to deploy (CI-gated or dispatch-triggered targets). */
function waiting(hub: Hub): TargetStatus['waiting'] {
  try {
    const verdicts = readVerdicts(hub.meta);
    return waitingFor(
      hub.config(),
      readBranchHead(hub.meta),
      (sha) => hub.sql.exec('SELECT 1 FROM deployments WHERE sha = ? LIMIT 1', sha).toArray().length > 0,
      (sha) => verdicts.find((v) => v.sha === sha) ?? null,
    );
  } catch {
    return null;
  }
}

/** One deployment with its step log and its outward messages. */
export function deploymentDetail(hub: Hub, id: string): HubResult<DeploymentDetail> {
  const deployment = hub.deployments.get(id);
  if (!deployment) return refused(404, 'unknown_deployment', `No deployment ${quoteInput(id)} on this target.`);
  return accepted({ deployment, steps: hub.stepLog.events(id), droppedSteps: hub.stepLog.dropped(id), outward: hub.outbox.forDeployment(id) });
}
