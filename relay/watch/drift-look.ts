// One look of the drift watch at the host: the manifest (one checksum round trip when it did not
// change), a stat walk of the config folder by hashLiveTree that hashes only the deployed files and
// the candidates for `added` whose stat changed since the last hashing (the cache is the pipeline's
// own, so a look after a deploy and a deploy after a look reuse each other's work), the comparison,
// and the diffs of what differs. A protected path is never hashed, read or named in a command: the
// selection leaves it out, and the listing itself is a `find … -exec stat` that names no file.
import type { DriftReportMessage } from '../../shared/drift.ts';
import type { Logger } from '../log.ts';
import { GitError } from '../pipeline/git-error.ts';
import { normaliseFolder } from '../pipeline/git-objects.ts';
import type { GitSource } from '../pipeline/git-source.ts';
import { DEFAULT_LANYARD_FILE, LANYARD_FILE_NAME, parseLanyardFile, type LanyardFile } from '../pipeline/lanyard-file.ts';
import { hashLiveTree, type LiveHashCache } from '../pipeline/live-tree.ts';
import type { ManifestStore } from '../pipeline/manifest-store.ts';
import type { RelayConfig } from '../config.ts';
import type { TargetHost } from '../transport/target-host.ts';
import { compareWithManifest, driftRulesOf, hashSelection, type DriftRules } from './drift-comparison.ts';
import { buildDriftReport, DiffCache } from './drift-report.ts';
import { FirstSeen } from './first-seen.ts';
import { readHostVersion } from './host-version.ts';

/** What a look needs of the pipeline (pipeline-parts.ts). */
export interface DriftLookParts {
  config: RelayConfig;
  logger: Logger;
  git: GitSource;
  manifests: ManifestStore;
  root: string;
  liveHashes: LiveHashCache;
  host: () => Promise<TargetHost>;
}

/** What the last look did, for the log and the tests. */
export interface LookStats {
  /** Files listed by the stat walk (protected ones included: listed, never read). */
  listed: number;
  /** Files whose content was hashed this look: 0 on a host unchanged since the last look. */
  hashed: number;
  /** Files read for a diff this look. */
  diffReads: number;
}

export class DriftLook {
  private readonly firstSeen = new FirstSeen();
  private readonly diffs = new DiffCache();
  private rules: { sha: string; rules: DriftRules } | null = null;
  /** Deployed commits fetched once because the cache lacked them: never fetched again each look. */
  private readonly fetched = new Set<string>();
  last: LookStats | null = null;

  constructor(
    private readonly parts: DriftLookParts,
    private readonly now: () => number = Date.now,
  ) {}

  async look(): Promise<DriftReportMessage> {
    const { manifests, root, liveHashes } = this.parts;
    const host = await this.parts.host();
    const at = this.now();
    const manifest = await manifests.read(host);
    if (!manifest) {
      // Nothing deployed yet: nothing can drift, and nothing is hashed.
      this.firstSeen.update([], at);
      this.last = { listed: 0, hashed: 0, diffReads: 0 };
      return { type: 'drift', at, deployedSha: null, files: [], total: 0 };
    }
    const rules = await this.rulesOf(manifest.sha);
    const listing = await hashLiveTree(host, root, liveHashes, { select: hashSelection(manifest.files, rules) });
    const live = listing.files.map((f) => ({ path: f.path, type: f.type, size: f.size, sha256: f.sha256 }));
    const findings = compareWithManifest(manifest.files, live, rules);
    const since = this.firstSeen.update(
      findings.map((f) => f.path),
      at,
    );
    const readsBefore = this.diffs.reads;
    const subfolder = normaliseFolder(this.parts.config.git.subfolder);
    const report = await buildDriftReport({
      at,
      deployedSha: manifest.sha,
      findings,
      since,
      diffs: this.diffs,
      source: {
        deployed: (path) => this.parts.git.readCommitFile(manifest.sha, subfolder ? `${subfolder}/${path}` : path),
        host: (path) => readHostVersion(host, root, path, rules.isProtected),
      },
    });
    this.last = { listed: listing.files.length + listing.listedOnly.length, hashed: listing.hashed, diffReads: this.diffs.reads - readsBefore };
    return report;
  }

  /** The rules of the deployed commit: the relay's globs with its lanyard.yaml's, read once per commit. */
  private async rulesOf(sha: string): Promise<DriftRules> {
    if (this.rules?.sha === sha) return this.rules.rules;
    const { config } = this.parts;
    const lanyard = await this.lanyardFileOf(sha);
    const rules = driftRulesOf(config, lanyard);
    this.rules = { sha, rules };
    return rules;
  }

  /**
   * The deployed commit's lanyard.yaml: its protect globs count as the owner's, so a look that
   * cannot read it does not look at all (rather than read what it might protect).
   */
  private async lanyardFileOf(sha: string): Promise<LanyardFile> {
    const { git, config } = this.parts;
    const subfolder = normaliseFolder(config.git.subfolder);
    const path = subfolder ? `${subfolder}/${LANYARD_FILE_NAME}` : LANYARD_FILE_NAME;
    let text: Buffer | null;
    try {
      text = await git.readCommitFile(sha, path);
    } catch (error) {
      if (!(error instanceof GitError) || error.code !== 'unknown_commit' || this.fetched.has(sha)) throw error;
      // The relay's git cache lost the deployed commit (a new stateDir): fetch it once.
      this.fetched.add(sha);
      await git.fetchDeployedCommit(sha);
      text = await git.readCommitFile(sha, path);
    }
    if (!text) return DEFAULT_LANYARD_FILE;
    const parsed = parseLanyardFile(text.toString('utf8'));
    if (!parsed.ok) throw new Error(`the deployed commit's ${LANYARD_FILE_NAME} cannot be read (${parsed.error.message}), so the drift watch does not know what it protects`);
    return parsed.value;
  }
}
