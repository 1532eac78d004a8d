// What the pages show, fetched from the target's hub through the same RPC methods the REST API
// calls (status, history, deployment, metrics), so the page and the API cannot disagree.
import type { DeploymentView, DroppedSteps, Metrics, OutwardDelivery, StepEvent, TargetStatus } from '../../shared/api.ts';
import type { TargetConfig } from '../config/targets.ts';
import type { Env } from '../env.ts';
import type { CaptureView } from '../hub/capture-store.ts';
import type { PullPlanView } from '../hub/pull-plan-store.ts';
import { hubFor } from '../hub/hub-for.ts';
import { unwrap, type HubResult } from '../hub/hub-result.ts';

/** The chart's window: deployments per day over the last 30 days. */
export const METRICS_DAYS = 30;
export const HISTORY_PAGE = 50;

export interface DeploymentDetail {
  deployment: DeploymentView;
  steps: StepEvent[];
  /** What the hub let go between the first events and the latest; null when it kept them all. */
  droppedSteps: DroppedSteps | null;
  outward: OutwardDelivery[];
}

export interface TargetSummary {
  target: TargetConfig;
  status: TargetStatus;
  /** The steps of the running deployment, for "deploying: check". */
  currentSteps: StepEvent[];
}

export interface TargetPage extends TargetSummary {
  history: DeploymentView[];
  /** `before` of the next (older) page, or null when this one is the last. */
  olderBefore: string | null;
  /** The deployment whose progress and log are shown: the one asked for, else the running one, else the latest. */
  selected: DeploymentDetail | null;
  /** True when `selected` is what the reader asked for with `?deployment=`. */
  pinned: boolean;
  metrics: Metrics;
  /** Recent captures of host edits (issue 17), newest first. */
  captures: CaptureView[];
  /** The newest plan of each open pull request (issue 20); absent on pages built before plans existed. */
  pullPlans?: PullPlanView[];
}

/**
 * `hub.deployment` with its real type: through the RPC stub the success branch reads as `never`
 * (a step's `detail` is `Record<string, unknown>`, which the stub types do not call serializable).
 */
export async function deploymentDetail(env: Env, target: string, id: string): Promise<HubResult<DeploymentDetail>> {
  return (await hubFor(env, target).deployment(target, id)) as unknown as HubResult<DeploymentDetail>;
}

export async function loadTargetSummary(env: Env, target: TargetConfig): Promise<TargetSummary> {
  const hub = hubFor(env, target.name);
  const status = await hub.status(target.name);
  let currentSteps: StepEvent[] = [];
  if (status.current) {
    const detail = await deploymentDetail(env, target.name, status.current.id);
    if (detail.ok) currentSteps = detail.value.steps;
  }
  return { target, status, currentSteps };
}

export async function loadTargetPage(
  env: Env,
  target: TargetConfig,
  options: { deploymentId: string | null; before: string | null },
  now: number,
): Promise<TargetPage> {
  const hub = hubFor(env, target.name);
  const [status, history, metrics, captures, pullPlans] = await Promise.all([
    hub.status(target.name),
    hub.history(target.name, options.before ? { limit: HISTORY_PAGE, before: options.before } : { limit: HISTORY_PAGE }),
    hub.metrics(target.name, now, METRICS_DAYS),
    hub.captures(target.name, 10),
    hub.pullPlans(target.name, 20),
  ]);
  const selectedId = options.deploymentId ?? status.current?.id ?? status.queued[0]?.id ?? (options.before ? null : history[0]?.id) ?? null;
  // An id the reader asked for that does not exist is a 404 page, as the API answers.
  const selected: DeploymentDetail | null = selectedId ? unwrap(await deploymentDetail(env, target.name, selectedId)) : null;
  let currentSteps: StepEvent[] = [];
  if (status.current) {
    if (selected?.deployment.id === status.current.id) currentSteps = selected.steps;
    else {
      const detail = await deploymentDetail(env, target.name, status.current.id);
      if (detail.ok) currentSteps = detail.value.steps;
    }
  }
  return {
    target,
    status,
    currentSteps,
    history,
    olderBefore: history.length === HISTORY_PAGE ? history[history.length - 1]!.id : null,
    selected,
    pinned: options.deploymentId !== null,
    metrics,
    captures,
    pullPlans,
  };
}
