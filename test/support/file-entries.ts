// File entries as the planner sees them (from a git tree or the host's hashing), built from
// content so tests read like a folder listing: `file('automations.yaml', '- id: a')`.
import { createHash } from 'node:crypto';
import type { FileEntry, Manifest } from '../../relay/pipeline/manifest.ts';

export const COMMIT_A = 'a'.repeat(40);
export const COMMIT_B = 'b'.repeat(40);

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A regular file; `mode` defaults to 0o644. */
export function file(path: string, content: string, mode = 0o644): FileEntry {
  return { path, sha256: sha256(content), mode, size: Buffer.byteLength(content), type: 'file' };
}

/** A symlink; its hash is the hash of its target text, as the host's hashing computes it. */
export function symlink(path: string, target: string): FileEntry {
  return { path, sha256: sha256(target), mode: 0o777, size: target.length, type: 'symlink', linkTarget: target };
}

/** A folder listing: `{ 'automations.yaml': '- id: a' }` → file entries. */
export function files(listing: Record<string, string>): FileEntry[] {
  return Object.entries(listing).map(([path, content]) => file(path, content));
}

export function manifestOf(entries: FileEntry[], sha = COMMIT_A): Manifest {
  return { sha, deployedAt: 1_700_000_000_000, files: entries };
}
