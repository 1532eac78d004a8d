// The relay's latest drift report, in the hub's meta table: which deployed files differ on the host,
// since when, with a diff of text files. Kept as the relay sent it (the relay never reads protected
// paths, so nothing here is a secret) and only the latest: a report says all that differs now.
import { DriftView } from '../../shared/api.ts';
import { MAX_DRIFT_DIFFS_CHARS, type DriftReportMessage } from '../../shared/drift.ts';

const KEY = 'drift_report';

/** What makes one drift different from another: the file and what happened to it. */
export function driftKey(file: { path: string; change: string }): string {
  return `${file.change}\u0000${file.path}`;
}

/** Why a report that passed the schema still cannot be true, or null when it can. */
export function implausibleReport(report: DriftReportMessage): string | null {
  if (report.deployedSha === null && report.files.length) return 'a drift report names changed files but no deployed commit (before the first deploy nothing can drift)';
  if (report.total < report.files.length) return `a drift report counts ${report.total} files in all but names ${report.files.length}`;
  const paths = new Set(report.files.map((f) => f.path));
  if (paths.size !== report.files.length) return 'a drift report names one file twice';
  const diffChars = report.files.reduce((sum, f) => sum + (f.diff?.length ?? 0), 0);
  if (diffChars > MAX_DRIFT_DIFFS_CHARS) return `a drift report's diffs are ${diffChars} characters, over the limit of ${MAX_DRIFT_DIFFS_CHARS}`;
  return null;
}

export class DriftReportStore {
  constructor(private readonly sql: SqlStorage) {}

  /** The latest report, or null when no relay ever sent one (or what is stored no longer parses). */
  read(): DriftView | null {
    const row = this.sql.exec('SELECT value FROM meta WHERE key = ?', KEY).toArray()[0];
    if (!row) return null;
    try {
      const parsed = DriftView.safeParse(JSON.parse(String(row.value)));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  /** Keeps a report as the latest; answers the one it replaced. */
  record(report: DriftReportMessage, now: number): { previous: DriftView | null; kept: DriftView } {
    const previous = this.read();
    const kept: DriftView = { receivedAt: now, at: report.at, deployedSha: report.deployedSha, files: report.files, total: report.total };
    this.sql.exec('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', KEY, JSON.stringify(kept));
    return { previous, kept };
  }
}

/** The files of `report` its previous report did not name (by path and change): drift that is new. */
export function newDrift(previous: DriftView | null, report: DriftView): DriftView['files'] {
  const before = new Set((previous?.files ?? []).map(driftKey));
  return report.files.filter((f) => !before.has(driftKey(f)));
}
