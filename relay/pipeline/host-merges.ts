// The reads a merge needs, done by the pipeline so the plan stays a pure function: the host's
// version of each candidate (merge-candidates.ts), the version Lanyard deployed (the previous
// manifest's commit) and the new commit's, merged by relay/merge/. And, once the commit's files are
// staged on the host, the merged content put in place of the commit's in the staging folder.
import { createHash } from 'node:crypto';
import { mergeHaYaml, type MergeResult } from '../merge/three-way-merge.ts';
import { pathInside, type NameShape } from '../safe-path.ts';
import { shellQuote, type TargetHost } from '../transport/target-host.ts';
import type { GitSource } from './git-source.ts';
import { readHostFile, runChecked } from './host-files.ts';
import type { FileEntry } from './manifest.ts';
import { MERGE_FILE_NAME } from './merge-candidates.ts';

const MERGE_FILE_SHAPE: NameShape = { what: 'a YAML file in the config folder (deploy.mergeFiles)', pattern: MERGE_FILE_NAME };

export interface MergeSources {
  git: GitSource;
  host: TargetHost;
  /** The config folder on the host. */
  root: string;
  subfolder: string;
  /** The commit the previous manifest records: the merge's base. */
  baseSha: string;
  commitSha: string;
  /** What the plan hashed on the host, to make sure the text merged is the text planned with. */
  liveFiles: readonly FileEntry[];
}

function conflict(reason: string): MergeResult {
  return { clean: false, conflicts: [{ id: null, reason, theirs: null, ours: null }] };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function textOf(bytes: Buffer): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** Merges each candidate; a file that cannot be read as planned is a conflict, never a guess. */
export async function mergeOnHost(candidates: readonly string[], sources: MergeSources): Promise<Map<string, MergeResult>> {
  const live = new Map(sources.liveFiles.map((f) => [f.path, f]));
  const merges = new Map<string, MergeResult>();
  for (const path of candidates) {
    const repoPath = sources.subfolder ? `${sources.subfolder}/${path}` : path;
    const [hostBytes, baseBytes, ourBytes] = await Promise.all([
      readHostFile(sources.host, pathInside(sources.root, MERGE_FILE_SHAPE, path)),
      sources.git.readCommitFile(sources.baseSha, repoPath).catch(() => null),
      sources.git.readCommitFile(sources.commitSha, repoPath),
    ]);
    if (!hostBytes || createHash('sha256').update(hostBytes).digest('hex') !== live.get(path)?.sha256) {
      merges.set(path, conflict('it changed on the host again while the deploy was being planned'));
      continue;
    }
    if (!baseBytes) {
      merges.set(path, conflict(`the deployed commit ${sources.baseSha.slice(0, 7)} is no longer in the repository, so there is no common version to merge from`));
      continue;
    }
    const [base, theirs, ours] = [textOf(baseBytes), textOf(hostBytes), ourBytes ? textOf(ourBytes) : null];
    if (base === null || theirs === null || ours === null) {
      merges.set(path, conflict('one of its versions is not UTF-8 text'));
      continue;
    }
    merges.set(path, mergeHaYaml({ base, theirs, ours }));
  }
  return merges;
}

/** The merged texts to write, by path: the clean merges the plan writes (not those the host already holds). */
export function mergedTextsToWrite(merges: ReadonlyMap<string, MergeResult>, merged: readonly string[], toWrite: readonly FileEntry[]): Map<string, string> {
  const writing = new Set(toWrite.map((f) => f.path));
  const texts = new Map<string, string>();
  for (const path of merged) {
    const merge = merges.get(path);
    if (merge?.clean && merge.from === 'merged' && writing.has(path)) texts.set(path, merge.text);
  }
  return texts;
}

/** Puts the merged texts over the commit's versions in the staging folder, before anything moves into place. */
export async function stageMergedTexts(host: TargetHost, stagingDir: string, texts: ReadonlyMap<string, string>): Promise<void> {
  for (const [path, text] of texts) {
    const staged = pathInside(stagingDir, MERGE_FILE_SHAPE, path);
    await runChecked(host, `staging the merged ${path}`, `set -e; [ -f ${shellQuote(staged)} ] && [ ! -L ${shellQuote(staged)} ]; cat > ${shellQuote(staged)}`, text);
  }
}
