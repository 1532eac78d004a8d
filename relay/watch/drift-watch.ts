// The drift watch's clock: a look at the host every `watch.intervalSeconds` (counted from the end
// of the last one, so looks never pile up on a slow host), one more right after every job so the
// edge's view is fresh, never while a job runs (the job runner's HostLock), and the report sent to
// the edge after every look and again when it welcomes the relay. The edge decides what is new
// drift and when to notify; the relay does not hold back a report that did not change, it only
// never sends more than one a look (plus the one on connect).
import type { DriftReportMessage } from '../../shared/drift.ts';
import type { HostLock } from '../host-lock.ts';
import type { Logger } from '../log.ts';

export interface DriftWatchOptions {
  look: () => Promise<DriftReportMessage>;
  lock: HostLock;
  /** Sends to the edge; false when not connected (the report goes out on the next welcome). */
  send: (report: DriftReportMessage) => boolean;
  intervalMs: number;
  logger: Logger;
}

/** What identifies a report's answer: the same files, changes and diffs mean the same drift. */
export function driftFingerprint(report: DriftReportMessage): string {
  return JSON.stringify([report.deployedSha, report.total, report.files.map((f) => [f.path, f.change, f.diff, f.diffNote])]);
}

export class DriftWatch {
  private timer: NodeJS.Timeout | null = null;
  private pending: Promise<DriftReportMessage | null> | null = null;
  private last: { report: DriftReportMessage; fingerprint: string } | null = null;
  private lastFailure: string | null = null;
  private stopped = false;

  constructor(private readonly options: DriftWatchOptions) {}

  /** The latest report, null before the first look succeeded. */
  get latest(): DriftReportMessage | null {
    return this.last?.report ?? null;
  }

  /** Looks at once (after any job in flight), then every interval. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.pending;
  }

  /** The edge welcomed the relay: it hears the latest report (a look on its way sends its own). */
  onReady(): void {
    if (this.last) this.options.send(this.last.report);
  }

  /** A job ended: look again as soon as the host is free. */
  afterJob(): void {
    if (!this.stopped) void this.lookNow();
  }

  /** One look now (or the one already waiting for the host); resolves with its report, null when it failed. */
  lookNow(): Promise<DriftReportMessage | null> {
    if (this.pending) return this.pending;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const look = this.options.lock
      .run(() => this.options.look())
      .then(
        (report) => this.settled(report),
        (error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          // Said once, not every few minutes while the host stays down; said again when it changes.
          if (reason !== this.lastFailure) this.options.logger.warn(`drift watch: could not look at the host: ${reason}`);
          this.lastFailure = reason;
          return null;
        },
      )
      .finally(() => {
        this.pending = null;
        this.schedule(this.options.intervalMs);
      });
    this.pending = look;
    return look;
  }

  private settled(report: DriftReportMessage): DriftReportMessage {
    if (this.lastFailure !== null) this.options.logger.info('drift watch: looking at the host again');
    this.lastFailure = null;
    const fingerprint = driftFingerprint(report);
    if (fingerprint !== this.last?.fingerprint) this.options.logger.info(`drift watch: ${describe(report)}`);
    this.last = { report, fingerprint };
    this.options.send(report);
    return report;
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.pending) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.lookNow();
    }, delayMs);
    // The watch alone never keeps the process alive.
    this.timer.unref();
  }
}

function describe(report: DriftReportMessage): string {
  if (report.deployedSha === null && report.total === 0) return 'nothing deployed yet, so nothing can drift';
  if (report.total === 0) return `the host matches the last deploy${report.deployedSha ? ` (${report.deployedSha.slice(0, 7)})` : ''}`;
  const named = report.files.slice(0, 10).map((f) => `${f.path} (${f.change})`);
  const more = report.total > named.length ? ` and ${report.total - named.length} more` : '';
  return `${report.total === 1 ? '1 file differs' : `${report.total} files differ`} from the last deploy: ${named.join(', ')}${more}`;
}
