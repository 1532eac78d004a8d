// Takes jobs from the edge and runs them one at a time, honouring the journal: a job is
// acknowledged, run step by step, and its result kept in the outbox until the edge confirms it.
// On start, a job the journal says was interrupted is finished or rolled back before anything else.
// After the edge's welcome and after every job, the edge hears which backups the host keeps.
// The edge is not trusted beyond the protocol's shapes: a job for another target is refused, and
// nothing a message sets off may end the process (every promise started here is caught).
import type { CaptureMessage, CapturedMessage, DriftReportMessage } from '../shared/drift.ts';
import type { PlanMessage, PlannedMessage } from '../shared/pull-plan.ts';
import { PullPlans } from './pull-plan/pull-plans.ts';
import type { TargetStateMessage } from '../shared/freeze.ts';
import type { AlertedMessage, AlertMessage } from '../shared/alert.ts';
import type { HubMessage, InFlightJob, JobMessage, ResultMessage } from '../shared/protocol.ts';
import { describeZodError } from '../shared/protocol.ts';
import { boundedSummary, DeploymentSummary } from '../shared/deployment.ts';
import { BackupInventory } from './backup-inventory.ts';
import type { HostLock } from './host-lock.ts';
import type { JournalEntry } from './journal.ts';
import { Journal } from './journal.ts';
import type { Logger } from './log.ts';
import type { KeptBackupRecord } from './pipeline/backups.ts';
import { StepRunner, type JobOutcome } from './step-runner.ts';

/** What actually does the work: the pipeline in production. */
export interface JobExecutor {
  execute(job: JobMessage, steps: StepRunner): Promise<JobOutcome>;
  /** Finishes or undoes a job the relay was killed in the middle of. */
  recover(entry: JournalEntry, steps: StepRunner): Promise<JobOutcome>;
  /** Connected with nothing to do: e.g. publish the house's deployment sensor again. Must not throw. */
  idle?(): Promise<void>;
  /** The backups kept on the host, for the edge's inventory. Without it the edge is never told (as an older relay). */
  backups?(): Promise<KeptBackupRecord[]>;
  /** One look of the drift watch (relay/watch/): what differs on the host from the last deploy. */
  lookForDrift?(): Promise<DriftReportMessage>;
  /** A read-only plan of a pull request's head (relay/pull-plan/). Must not throw. */
  planPull?(message: PlanMessage): Promise<PlannedMessage>;
  /** Host edits made into a pushed branch (relay/capture/); absent when the relay is not set up to capture. Must not throw. */
  capture?(message: CaptureMessage): Promise<CapturedMessage>;
  /** The edge's word on the target (a freeze, or none) for the house's sensor (relay/outward/). Must not throw. */
  targetState?(message: TargetStateMessage): Promise<void>;
  /** An edge's alert to the house's notify services (relay/outward/house-alerts.ts); absent when `alerts.notify` is empty. */
  alert?(message: AlertMessage): Promise<AlertedMessage>;
}

/** What the runner shares with the drift watch (relay/watch/drift-watch.ts). */
export interface JobRunnerHooks {
  /** Held for the whole of each job: the watch never looks at the host while a job runs. */
  hostLock?: HostLock;
  /** After each job's result went out (and the lock is free): the watch looks again at once. */
  afterJob?: () => void;
}

export interface Channel {
  send(message: import('../shared/protocol.ts').RelayMessage): boolean;
}

export class JobRunner {
  private running: { jobId: string; done: Promise<void> } | null = null;
  /** The capture in progress, if any: a job or another capture waits for it. */
  private capturing: Promise<void> | undefined;
  private leaseMs = 90_000;
  private readonly inventory: BackupInventory | null;
  private readonly pullPlans: PullPlans;

  constructor(
    private readonly journal: Journal,
    private readonly executor: JobExecutor,
    private readonly channel: Channel,
    private readonly logger: Logger,
    /** The target this relay serves (`edge.target`): the only one it takes jobs for. */
    private readonly target: string,
    private readonly hooks: JobRunnerHooks = {},
  ) {
    const list = executor.backups?.bind(executor);
    this.inventory = list ? new BackupInventory({ list, send: (m) => channel.send(m), logger }) : null;
    this.pullPlans = new PullPlans({ executor, channel, logger, target, hostLock: hooks.hostLock, busy: () => Promise.all([this.capturing, this.running?.done]).then(() => undefined) });
  }

  /** The job in flight, for `hello`. */
  async inFlight(): Promise<InFlightJob | null> {
    const entry = await this.journal.current();
    return entry ? { jobId: entry.job.jobId, attempt: entry.job.attempt, step: entry.step } : null;
  }

  /** On start: finish or roll back whatever the journal says was interrupted. */
  async recover(): Promise<void> {
    const entry = await this.journal.current();
    if (!entry) return;
    this.logger.warn(`journal: job ${entry.job.jobId} was interrupted at step ${entry.step}; recovering`);
    this.start(entry.job, (steps) => this.executor.recover(entry, steps), entry);
  }

  /** Waits for the current job, if any (used by tests and on shutdown). */
  async idle(): Promise<void> {
    await this.running?.done;
  }

  /** The edge welcomed us: send every result it has not confirmed yet, then (when idle) the backups kept. */
  async onReady(): Promise<void> {
    for (const result of await this.journal.pendingResults()) this.channel.send(result);
    if (this.running) return; // the job's end reports the backups
    void this.executor.idle?.().catch(() => undefined);
    void this.reportBackups();
  }

  /** Tells the edge which backups the host keeps; best effort, never throws (resolves when sent or given up). */
  reportBackups(): Promise<void> {
    return this.inventory?.report() ?? Promise.resolve();
  }

  onMessage(message: HubMessage): void {
    switch (message.type) {
      case 'welcome':
        this.leaseMs = message.leaseMs;
        break;
      case 'job':
        // A job that cannot even be looked at is answered, so the edge does not wait on it until its lease ends.
        this.settle(
          `job ${message.jobId}`,
          this.onJob(message).catch((error: unknown) => {
            this.channel.send({ type: 'error', code: 'internal', message: `job ${message.jobId} was not started: ${error instanceof Error ? error.message : String(error)}`.slice(0, 4000), jobId: message.jobId });
            throw error;
          }),
        );
        break;
      case 'cancel':
        this.logger.warn(`edge cancelled job ${message.jobId}: ${message.reason}${this.running?.jobId === message.jobId ? ' (already running; it will finish or roll back)' : ''}`);
        break;
      case 'recorded':
        this.settle(`forgetting the result of ${message.jobId}`, this.journal.forget(message.jobId));
        break;
      case 'error':
        this.logger.warn(`edge says ${message.code}: ${message.message}`);
        if (message.code === 'unknown_job' && message.jobId) this.settle(`forgetting the result of ${message.jobId}`, this.journal.forget(message.jobId));
        break;
      case 'pong':
        break;
      case 'capture':
        this.settle(`capture ${message.captureId}`, this.onCapture(message));
        break;
      case 'target_state':
        // Issue 18, freeze: the house's sensor shows it (relay/outward/house-outward.ts).
        this.settle('the target state', this.executor.targetState?.(message) ?? Promise.resolve());
        break;
      case 'alert':
        // Issue 18, alerts: passed to the notify services of `alerts.notify` (relay/outward/house-alerts.ts), at once, beside any job.
        this.settle(`alert ${message.alertId}`, this.onAlert(message));
        break;
      case 'plan':
        this.settle(`plan ${message.planId}`, this.pullPlans.onPlan(message));
        break;
      default: {
        const unreachable: never = message;
        this.logger.warn(`unhandled message ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** Runs `work` to its end without ever letting it end the process: a failure is one log line. */
  private settle(what: string, work: Promise<unknown>): void {
    work.catch((error: unknown) => this.logger.error(`${what} failed: ${error instanceof Error ? error.message : String(error)}`));
  }

  /**
   * A capture runs under the same one-at-a-time rule as jobs: after the job in flight (if any), and
   * a job that comes meanwhile waits for it. Always answered, so the edge never waits on it.
   */
  private async onAlert(message: AlertMessage): Promise<void> {
    const alert = this.executor.alert?.bind(this.executor);
    const answer: AlertedMessage = alert
      ? await alert(message).catch((error: unknown) => ({ type: 'alerted' as const, alertId: message.alertId, ok: false, detail: `unexpected error: ${error instanceof Error ? error.message : String(error)}`.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 1000) }))
      : { type: 'alerted', alertId: message.alertId, ok: false, detail: 'this relay names no notify services (relay config alerts.notify)' };
    this.channel.send(answer);
  }

  private async onCapture(message: CaptureMessage): Promise<void> {
    const capture = this.executor.capture?.bind(this.executor);
    const failed = (reason: string): CapturedMessage => ({ type: 'captured', captureId: message.captureId, outcome: 'failed', branch: null, commit: null, base: null, files: [], total: 0, reason, at: Date.now() });
    const before = this.capturing;
    const work = (async () => {
      await before;
      await this.running?.done;
      if (!capture) return failed('this relay is not set up to capture host edits: add a `capture:` section to its relay.yaml (docs/drift.md)');
      if (message.target !== this.target) return failed(`the capture is for target "${message.target}", but this relay serves "${this.target}"; nothing was read`);
      this.logger.info(`capture ${message.captureId} for ${message.target}, asked by ${message.requestedBy}`);
      // On the host one at a time with the drift watch's looks too (relay/host-lock.ts).
      const run = () => capture(message).catch((error: unknown) => failed(`unexpected error: ${error instanceof Error ? error.message : String(error)}`.slice(0, 4000)));
      return this.hooks.hostLock ? this.hooks.hostLock.run(run) : run();
    })();
    const done = work.then(() => undefined, () => undefined);
    this.capturing = done;
    const answer = await work;
    if (this.capturing === done) this.capturing = undefined;
    this.channel.send(answer);
  }

  private async onJob(job: JobMessage): Promise<void> {
    // A capture in progress holds the host and the git cache: the job starts after it.
    await this.capturing;
    // The edge names the target; a job for another one (a misrouted or forged job) is not ours to run.
    if (job.target !== this.target) {
      const message = `job ${job.jobId} is for target "${job.target}", but this relay serves "${this.target}"; refused, nothing was done`;
      this.logger.error(`edge sent ${message}`);
      this.channel.send({ type: 'error', code: 'invalid_message', message, jobId: job.jobId });
      return;
    }
    // Idempotent by job id: a job already finished is answered with its result, a job already
    // running is acknowledged again; neither runs twice.
    const finished = await this.journal.pendingResult(job.jobId);
    if (finished) {
      this.channel.send({ type: 'ack', jobId: job.jobId, attempt: job.attempt });
      this.channel.send(finished);
      return;
    }
    if (this.running) {
      if (this.running.jobId === job.jobId) this.channel.send({ type: 'ack', jobId: job.jobId, attempt: job.attempt });
      else this.channel.send({ type: 'error', code: 'busy', message: `still running ${this.running.jobId}`, jobId: job.jobId });
      return;
    }
    // The ack makes the job ours in the edge's eyes, so it goes out only once the journal holds the
    // job: a relay killed in between finds it on restart and runs it, instead of leaving the edge
    // waiting on a job nobody runs until its lease ends in "relay lost".
    this.start(job, (steps) => this.executor.execute(job, steps), null, () => {
      this.channel.send({ type: 'ack', jobId: job.jobId, attempt: job.attempt });
      this.logger.info(`job ${job.jobId}: ${job.kind} ${job.sha.slice(0, 7)} for ${job.target}, asked by ${job.requestedBy}`);
    });
  }

  private start(job: JobMessage, work: (steps: StepRunner) => Promise<JobOutcome>, resumed: JournalEntry | null, journaled: () => void = () => undefined): void {
    const startedAt = resumed?.startedAt ?? Date.now();
    const steps = new StepRunner(job, this.journal, (m) => this.channel.send(m), this.logger, { ...(resumed?.context ?? {}) }, startedAt, resumed?.step);
    const lease = setInterval(() => steps.heartbeat(`still on ${steps.current}`), Math.max(1000, Math.floor(this.leaseMs / 3)));
    const done = (async () => {
      let outcome: JobOutcome;
      try {
        if (!resumed) await this.journal.write({ job, step: 'fetch', startedAt, context: {} });
        journaled();
        const lock = this.hooks.hostLock;
        outcome = lock ? await lock.run(() => work(steps)) : await work(steps);
      } catch (error) {
        outcome = { status: 'failed', reason: `unexpected error: ${error instanceof Error ? error.message : String(error)}`, summary: {} };
      } finally {
        clearInterval(lease);
      }
      const result: ResultMessage = {
        type: 'result',
        jobId: job.jobId,
        status: outcome.status,
        reason: outcome.reason === null ? null : outcome.reason.slice(0, 4000),
        summary: this.summaryOf(outcome, steps),
        ...(steps.spanEnds.length ? { stepSpans: steps.spanEnds } : {}),
      };
      try {
        await this.journal.finish(result);
      } catch (error) {
        // Without the outbox the result is sent once and may be lost; a relay stuck "running" forever would be worse.
        this.logger.error(`job ${job.jobId}: could not keep its result in the outbox (${error instanceof Error ? error.message : String(error)}); sending it once`);
      }
      this.logger.info(`job ${job.jobId}: ${result.status}${result.reason ? ` (${result.reason})` : ''}`);
      this.running = null;
      this.channel.send(result);
      // Jobs take and prune backups. After the result, and not awaited: it can never delay or fail the job.
      void this.reportBackups();
      this.hooks.afterJob?.();
    })();
    this.running = { jobId: job.jobId, done };
    this.settle(`job ${job.jobId}`, done);
  }

  /** The outcome's summary in the protocol's shape; a field that does not fit is dropped and said, never thrown. */
  private summaryOf(outcome: JobOutcome, steps: StepRunner): DeploymentSummary {
    const raw = { ...outcome.summary, durationsMs: { ...steps.durations, ...(outcome.summary.durationsMs ?? {}) } };
    const parsed = DeploymentSummary.safeParse(raw);
    if (parsed.success) return boundedSummary(parsed.data);
    this.logger.warn(`job ${steps.job.jobId}: its summary does not fit the protocol (${describeZodError(parsed.error)}); reporting the durations only`);
    return DeploymentSummary.parse({ durationsMs: raw.durationsMs });
  }
}
