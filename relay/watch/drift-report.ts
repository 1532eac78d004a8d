// The `drift` message of one look (shared/drift.ts): the findings in path order, the first
// MAX_DRIFT_FILES of them named, each with its `since` and, for text files, a diff within
// MAX_DRIFT_DIFF_CHARS, all diffs together within MAX_DRIFT_DIFFS_CHARS, the frame well inside the
// hub's limit. A diff is made once per content: kept by (path, deployed hash, host hash), a file
// that stays as it was is never read again at the next look.
import { ConfigPath, DriftReportMessage, MAX_DRIFT_DIFFS_CHARS, MAX_DRIFT_FILES, type DriftedFile } from '../../shared/drift.ts';
import { MAX_RELAY_FRAME_BYTES } from '../../shared/protocol.ts';
import type { DriftFinding } from './drift-comparison.ts';
import { fileDiff, MAX_DIFFED_FILE_BYTES, type FileDiff } from './drift-diff.ts';

/** Where the two versions of a drifted file are read: each answers null when there is none. */
export interface DiffSource {
  /** The deployed version, from the deployed commit in the relay's git cache. */
  deployed(path: string): Promise<Buffer | null>;
  /** The host's version (never a protected path: the caller guards it). */
  host(path: string): Promise<Buffer | null>;
}

/** The frame's own ceiling: the hub refuses frames over MAX_RELAY_FRAME_BYTES. */
const FRAME_BUDGET_BYTES = Math.floor(MAX_RELAY_FRAME_BYTES * 0.85);

function oneLine(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function contentKey(finding: DriftFinding): string {
  return `${finding.path}\u0000${finding.deployed?.type ?? ''}:${finding.deployed?.sha256 ?? ''}\u0000${finding.live?.type ?? ''}:${finding.live?.sha256 ?? ''}`;
}

/** Diffs by content, kept between looks for the files still drifting. */
export class DiffCache {
  private kept = new Map<string, FileDiff>();
  /** How many files were read to diff, since the relay started (tests and the log). */
  reads = 0;

  async diffOf(finding: DriftFinding, source: DiffSource, fresh: Map<string, FileDiff>): Promise<FileDiff> {
    const key = contentKey(finding);
    const known = this.kept.get(key) ?? (await this.make(finding, source));
    fresh.set(key, known);
    return known;
  }

  /** Keeps only what this look used. */
  replace(fresh: Map<string, FileDiff>): void {
    this.kept = fresh;
  }

  private async make(finding: DriftFinding, source: DiffSource): Promise<FileDiff> {
    const { path, change, deployed, live } = finding;
    if (change === 'deleted') return fileDiff(path, change, null, null);
    if (live?.type === 'symlink' || deployed?.type === 'symlink') return { diff: null, diffNote: 'symbolic link: not diffed' };
    const largest = Math.max(live?.size ?? 0, deployed?.size ?? 0);
    if (largest > MAX_DIFFED_FILE_BYTES) return { diff: null, diffNote: `larger than ${MAX_DIFFED_FILE_BYTES / 1024} KiB: not diffed` };
    let before: Buffer | null = null;
    if (deployed) {
      try {
        before = await source.deployed(path);
      } catch (error) {
        return { diff: null, diffNote: oneLine(`the deployed version could not be read: ${error instanceof Error ? error.message : String(error)}`) };
      }
      if (before === null) return { diff: null, diffNote: 'the deployed version is not in the deployed commit' };
    }
    let after: Buffer | null;
    try {
      this.reads += 1;
      after = await source.host(path);
    } catch (error) {
      return { diff: null, diffNote: oneLine(`the host's version could not be read: ${error instanceof Error ? error.message : String(error)}`) };
    }
    // Gone between the listing and the read: the next look reports it deleted.
    if (after === null) return { diff: null, diffNote: 'gone from the host while it was read' };
    return fileDiff(path, change, before, after);
  }
}

/** Builds the report; `since` holds when each finding was first seen. */
export async function buildDriftReport(input: {
  at: number;
  deployedSha: string | null;
  findings: readonly DriftFinding[];
  since: ReadonlyMap<string, number>;
  source: DiffSource;
  diffs: DiffCache;
}): Promise<DriftReportMessage> {
  const { at, findings, since, source, diffs } = input;
  // A 64-character (SHA-256 repository) commit does not fit the message; its drift still does.
  const deployedSha = input.deployedSha !== null && /^[0-9a-f]{40}$/.test(input.deployedSha) ? input.deployedSha : null;
  // A name the message cannot carry (a control character in it) is counted, not named.
  const nameable = findings.filter((f) => ConfigPath.safeParse(f.path).success);
  const fresh = new Map<string, FileDiff>();
  const files: DriftedFile[] = [];
  let budget = MAX_DRIFT_DIFFS_CHARS;
  for (const finding of nameable.slice(0, MAX_DRIFT_FILES)) {
    let diff: FileDiff;
    if (budget <= 0 && finding.change !== 'deleted') diff = { diff: null, diffNote: spentNote() };
    else {
      diff = await diffs.diffOf(finding, source, fresh);
      if (diff.diff !== null && diff.diff.length > budget) {
        // Spent: the files after this one are not even read (a smaller diff further on would fit,
        // but a report of 500 drifted files must not read 500 files to find out).
        diff = { diff: null, diffNote: spentNote() };
        budget = 0;
      }
    }
    budget -= diff.diff?.length ?? 0;
    files.push({ path: finding.path, change: finding.change, since: since.get(finding.path) ?? at, diff: diff.diff, diffNote: diff.diffNote });
  }
  diffs.replace(fresh);
  return fitFrame(DriftReportMessage.parse({ type: 'drift', at, deployedSha, files, total: findings.length }));
}

function spentNote(): string {
  return `left out: this report's diffs reached ${MAX_DRIFT_DIFFS_CHARS / 1024} KiB`;
}

/** Drops diffs, then files, from the end until the frame is well inside the hub's limit. */
function fitFrame(report: DriftReportMessage): DriftReportMessage {
  const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
  // Measured once, then kept up to date file by file: a 2 MB report is not serialised 500 times.
  let size = bytes(report);
  const dropped = 'left out: the report would not fit in one frame';
  for (let i = report.files.length - 1; i >= 0 && size > FRAME_BUDGET_BYTES; i -= 1) {
    const file = report.files[i]!;
    if (file.diff === null) continue;
    const lighter = { ...file, diff: null, diffNote: dropped };
    size += bytes(lighter) - bytes(file);
    report.files[i] = lighter;
  }
  while (report.files.length && size > FRAME_BUDGET_BYTES) size -= bytes(report.files.pop()) + 1;
  return report;
}
