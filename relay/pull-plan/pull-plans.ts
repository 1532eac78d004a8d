// The relay's side of pull-request plans: a `plan` from the edge runs after the job or capture in
// progress, under the host lock (one turn at the host with jobs and the drift watch), and is always
// answered with `planned`, so the edge never waits on it. A plan writes nothing, so a relay killed
// in the middle leaves nothing to recover: the edge sends it again.
import type { PlanMessage, PlannedMessage } from '../../shared/pull-plan.ts';
import type { HostLock } from '../host-lock.ts';
import type { Channel, JobExecutor } from '../job-runner.ts';
import type { Logger } from '../log.ts';
import { unplanned } from './plan-pull-request.ts';

export interface PullPlanParts {
  executor: Pick<JobExecutor, 'planPull'>;
  channel: Channel;
  logger: Logger;
  /** The target this relay serves: the only one it plans for. */
  target: string;
  hostLock: HostLock | undefined;
  /** Resolves once the job or capture in progress (if any) is done. */
  busy: () => Promise<void>;
}

export class PullPlans {
  constructor(private readonly parts: PullPlanParts) {}

  async onPlan(message: PlanMessage): Promise<void> {
    const { executor, channel, logger, target, hostLock } = this.parts;
    let answer: PlannedMessage;
    if (message.target !== target) {
      answer = unplanned(message.planId, 'refused', `the plan is for target "${message.target}", but this relay serves "${target}"; nothing was read`);
    } else if (!executor.planPull) {
      answer = unplanned(message.planId, 'failed', 'this relay cannot plan pull requests');
    } else {
      const plan = executor.planPull.bind(executor);
      await this.parts.busy();
      logger.info(`plan ${message.planId}: pull request #${message.pullNumber} at ${message.headSha.slice(0, 7)} into ${message.baseBranch}`);
      const run = () => plan(message).catch((error: unknown) => unplanned(message.planId, 'failed', `unexpected error: ${error instanceof Error ? error.message : String(error)}`));
      answer = await (hostLock ? hostLock.run(run) : run());
    }
    logger.info(`plan ${message.planId}: ${answer.outcome}${answer.reason ? ` (${answer.reason})` : ''}`);
    channel.send(answer);
  }
}
