// A capture, start to end: what drifted on the host since the last deploy (the manifest against
// the live tree), the content of the drifted files that are not protected (protected ones are
// never named, so never read), a commit on the deployed commit with those edits, and a push to
// `lanyard/host-edits/<target>/<yyyy-mm-dd>`. Answers with a `captured` message, never throws.
import { ConfigPath, MAX_DRIFT_FILES, type CaptureMessage, type CapturedMessage } from '../../shared/drift.ts';
import { GitCli } from '../pipeline/git-cli.ts';
import { readLanyardFile } from '../pipeline/commit-texts.ts';
import { readHostFile } from '../pipeline/host-files.ts';
import { hashLiveTree } from '../pipeline/live-tree.ts';
import { normaliseRepoPath } from '../pipeline/path-safety.ts';
import type { PipelineParts } from '../pipeline/pipeline-parts.ts';
import { captureBranchName } from './capture-branch.ts';
import { makeCaptureCommit, pushCaptureBranch, type CapturedEdit } from './capture-commit.ts';
import { compareWithManifest, driftRulesOf, hashSelection } from '../watch/drift-comparison.ts';

/** The author and committer of every capture: the relay, named by its target. */
export function captureIdentity(target: string): { name: string; email: string } {
  return { name: 'Lanyard relay', email: target };
}

function commitMessage(message: CaptureMessage, edits: readonly CapturedEdit[], at: number): string {
  const lines = edits.map((e) => `  ${e.change.padEnd(8)} ${e.path}`);
  return `Host edits on ${message.target}, captured by Lanyard\n\nEdited on the host since the last deploy (captured ${new Date(at).toISOString()}, asked by ${message.requestedBy}):\n${lines.join('\n')}\n\nLanyard-Capture: ${message.captureId}\n`;
}

/** Runs one capture; `now` is the captured time (the commit's date and the branch's day). */
export async function captureHostEdits(parts: PipelineParts, message: CaptureMessage, now: () => number = Date.now): Promise<CapturedMessage> {
  const at = now();
  const answer = (fields: Partial<CapturedMessage> & Pick<CapturedMessage, 'outcome'>): CapturedMessage => ({
    type: 'captured',
    captureId: message.captureId,
    branch: null,
    commit: null,
    base: null,
    files: [],
    total: 0,
    reason: null,
    at,
    ...fields,
  });
  const { config } = parts;
  if (!config.capture) return answer({ outcome: 'failed', reason: 'this relay is not set up to capture: add a `capture:` section to its relay.yaml (docs/drift.md)' });
  if (message.target !== config.edge.target) {
    return answer({ outcome: 'failed', reason: `the capture is for target "${message.target}", but this relay serves "${config.edge.target}"; nothing was read` });
  }
  try {
    const host = await parts.host();
    const manifest = await parts.manifests.read(host);
    if (!manifest) return answer({ outcome: 'nothing_to_capture', reason: 'nothing was deployed to this host yet, so nothing can have drifted' });
    const base = manifest.sha;
    await parts.git.fetchDeployedCommit(base);
    const subfolder = config.git.subfolder;
    const lanyard = await readLanyardFile(parts, base, subfolder);
    // The drift watch's rules and comparison: what the page shows as drift is what is captured. Only
    // deployed files and candidates for `added` are hashed; a protected path is never read.
    const rules = driftRulesOf(config, lanyard);
    const live = await hashLiveTree(host, parts.root, parts.liveHashes, { select: hashSelection(manifest.files, rules) });
    const liveByPath = new Map(live.files.map((f) => [f.path, f]));
    // A path the protocol cannot carry is not captured.
    const capturable = { isProtected: (path: string) => rules.isProtected(path) || !ConfigPath.safeParse(path).success, isLeftOut: rules.isLeftOut };
    const drifted = compareWithManifest(manifest.files, live.files, capturable).map((f) => ({ path: f.path, change: f.change, live: f.live ? (liveByPath.get(f.path) ?? null) : null }));
    if (!drifted.length) return answer({ outcome: 'nothing_to_capture', base, reason: `the host matches the deployed commit ${base.slice(0, 7)}` });
    const edits: CapturedEdit[] = [];
    for (const file of drifted) {
      if (file.change === 'deleted' || !file.live) {
        edits.push({ path: file.path, change: file.change, content: null });
      } else if (file.live.type === 'symlink') {
        edits.push({ path: file.path, change: file.change, content: { kind: 'symlink', target: file.live.linkTarget ?? '' } });
      } else {
        const bytes = await readHostFile(host, `${parts.root}/${normaliseRepoPath(file.path)}`);
        // Gone since the listing: the host no longer has it, so it counts as deleted (or as nothing, if it was new).
        if (bytes === null) {
          if (file.change === 'modified') edits.push({ path: file.path, change: 'deleted', content: null });
          continue;
        }
        edits.push({ path: file.path, change: file.change, content: { kind: 'file', bytes, executable: (file.live.mode & 0o111) !== 0 } });
      }
    }
    const files = edits.map((e) => ({ path: e.path, change: e.change }));
    if (!edits.length) return answer({ outcome: 'nothing_to_capture', base, reason: `the host matches the deployed commit ${base.slice(0, 7)}` });
    const remote = config.capture.pushRemote ?? config.git.remote;
    const cli = new GitCli({
      remote,
      cacheDir: parts.git.cacheDir,
      ...(config.capture.pushKeyPath ? { deployKeyPath: config.capture.pushKeyPath } : {}),
    });
    const commit = await makeCaptureCommit(cli, { base, subfolder, edits, message: commitMessage(message, edits, at), identity: captureIdentity(config.edge.target), at });
    const branch = captureBranchName(config.edge.target, at);
    await pushCaptureBranch(cli, remote, commit, branch);
    parts.logger.info(`capture ${message.captureId}: ${edits.length} file(s) pushed to ${branch} as ${commit.slice(0, 7)} on ${base.slice(0, 7)}`);
    return answer({ outcome: 'pushed', branch, commit, base, files: files.slice(0, MAX_DRIFT_FILES), total: files.length });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    parts.logger.warn(`capture ${message.captureId} failed: ${reason}`);
    return answer({ outcome: 'failed', reason: reason.slice(0, 4000) });
  }
}
