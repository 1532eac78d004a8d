// Runs the steps of one job: writes the journal before each step, reports progress to the edge
// with durations, and keeps the context later steps and crash recovery need. When the job carries a
// W3C `traceparent`, each step is a span under the job's: its ids ride on the step's progress events
// and the edge makes them part of the deployment's trace (docs/traces.md).
import type { DeploymentSummary, StepName } from '../shared/deployment.ts';
import { MAX_RESULT_STEP_SPANS, type JobMessage, type ProgressMessage } from '../shared/protocol.ts';
import { parseTraceparent, randomSpanId, type StepSpan, type TraceParent } from '../shared/trace-context.ts';
import { CodedError } from './coded-error.ts';
import type { Journal } from './journal.ts';
import type { Logger } from './log.ts';

export class StepFailure extends CodedError {
  constructor(
    readonly step: StepName,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

/** `waiting_for_window`: checked and put back; the restart it needs waits for the target's window. */
export type JobOutcome = { status: 'succeeded' | 'failed' | 'rolled_back' | 'waiting_for_window'; reason: string | null; summary: Partial<DeploymentSummary> };

export interface ProgressSink {
  (message: ProgressMessage): void;
}

export class StepRunner {
  readonly durations: Record<string, number> = {};
  /** The event that ended each step span, sent again with the result (`result.stepSpans`). */
  readonly spanEnds: ProgressMessage[] = [];
  current: StepName;
  /** The job's trace context; null when the edge sent none (an older edge) or one this relay cannot read. */
  private readonly trace: TraceParent | null;

  constructor(
    readonly job: JobMessage,
    private readonly journal: Journal,
    private readonly progress: ProgressSink,
    private readonly logger: Logger,
    readonly context: Record<string, unknown>,
    private readonly startedAt: number,
    firstStep: StepName = 'fetch',
  ) {
    this.current = firstStep;
    this.trace = job.traceparent ? parseTraceparent(job.traceparent) : null;
  }

  /** Saves something recovery will need (e.g. the backup id) before the step that depends on it. */
  async note(values: Record<string, unknown>): Promise<void> {
    Object.assign(this.context, values);
    await this.journal.write({ job: this.job, step: this.current, startedAt: this.startedAt, context: this.context });
  }

  /** `detailOf`: facts the edge acts on, sent with the step's success (e.g. `{activation: 'restart'}`). */
  async step<T>(name: StepName, work: () => Promise<T>, describe: (value: T) => string = () => 'done', detailOf?: (value: T) => Record<string, unknown>): Promise<T> {
    this.current = name;
    await this.journal.write({ job: this.job, step: name, startedAt: this.startedAt, context: this.context });
    const began = performance.now();
    const span = this.newSpan();
    this.emit(name, 'started', `${name} started`, undefined, span);
    this.logger.info(`${this.job.jobId} ${name}: started`);
    try {
      const value = await work();
      const ms = performance.now() - began;
      this.durations[name] = (this.durations[name] ?? 0) + ms;
      const text = describe(value);
      this.emit(name, 'succeeded', text, ms, span, detailOf?.(value));
      this.logger.info(`${this.job.jobId} ${name}: ${text} (${formatMs(ms)})`);
      return value;
    } catch (error) {
      const ms = performance.now() - began;
      this.durations[name] = (this.durations[name] ?? 0) + ms;
      const text = error instanceof Error ? error.message : String(error);
      this.emit(name, 'failed', text, ms, span);
      this.logger.warn(`${this.job.jobId} ${name}: failed after ${formatMs(ms)}: ${text}`);
      throw error instanceof StepFailure ? error : new StepFailure(name, 'step_failed', text);
    }
  }

  skip(name: StepName, why: string): void {
    this.emit(name, 'skipped', why, undefined, this.newSpan());
    this.logger.info(`${this.job.jobId} ${name}: skipped (${why})`);
  }

  /** A sign of life during a long step, so the edge's lease does not run out. */
  heartbeat(message: string): void {
    this.progress({ type: 'progress', jobId: this.job.jobId, step: this.current, status: 'started', message, at: Date.now(), detail: { heartbeat: true } });
  }

  /** A span for one run of a step, under the job's span; undefined without trace context. */
  private newSpan(): StepSpan | undefined {
    return this.trace ? { traceId: this.trace.traceId, spanId: randomSpanId(), parentSpanId: this.trace.parentSpanId } : undefined;
  }

  private emit(step: StepName, status: ProgressMessage['status'], message: string, durationMs?: number, span?: StepSpan, detail?: Record<string, unknown>): void {
    const m: ProgressMessage = { type: 'progress', jobId: this.job.jobId, step, status, message: message.slice(0, 4000), at: Date.now() };
    if (durationMs !== undefined) m.durationMs = Math.round(durationMs);
    if (span) m.span = span;
    if (detail) m.detail = detail;
    if (span && status !== 'started' && this.spanEnds.length < MAX_RESULT_STEP_SPANS) this.spanEnds.push({ ...m, message: m.message.slice(0, 1000) });
    this.progress(m);
  }
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
