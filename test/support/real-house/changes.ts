// Second commits of a real house, as owners make them: one automation saved in the UI, a hundred
// files rewritten (an integration or card update), a whole folder removed (an integration
// uninstalled). Each is a description (files to write, paths to remove, the tree afterwards), so a
// test can write it, commit it, and know what the host must hold after the deploy.
import { SELF_SIZED } from './content.ts';
import type { TreeEntry, TreeFile } from './entries.ts';

export interface RealHouseChange {
  /** A commit message that says what the owner did. */
  message: string;
  /** Files to write, with their new variant (and size). */
  writes: TreeFile[];
  /** Repository paths the change deletes. */
  removes: string[];
  /** The folder the change removes as a whole, when it does. */
  removedFolder?: string;
  /** The repository as the change leaves it, sorted by path. */
  after: TreeEntry[];
}

function afterChange(repo: readonly TreeEntry[], writes: readonly TreeFile[], removes: readonly string[]): TreeEntry[] {
  const written = new Map(writes.map((w) => [w.path, w]));
  const removed = new Set(removes);
  return repo.filter((e) => !removed.has(e.path)).map((e) => written.get(e.path) ?? e);
}

/** automations.yaml as the UI saves it after one automation was edited; `measure` sizes the new file. */
export function oneAutomationChanged(repo: readonly TreeEntry[], round: number, measure: (file: TreeFile) => number): RealHouseChange {
  const file = repo.find((e): e is TreeFile => e.path === 'automations.yaml' && e.kind !== 'symlink');
  if (!file) throw new Error('this tree has no automations.yaml');
  const edited: TreeFile = { ...file, variant: round };
  edited.size = measure(edited);
  return { message: `Edit one automation in the UI (round ${round})`, writes: [edited], removes: [], after: afterChange(repo, [edited], []) };
}

/**
 * `count` files spread over the whole tree rewritten at their sizes: text and binary, from every
 * folder, never a link, a self-sized file or one Home Assistant owns on the host.
 */
export function filesChanged(repo: readonly TreeEntry[], count: number, round: number): RealHouseChange {
  const eligible = repo.filter((e): e is TreeFile => e.kind !== 'symlink' && !e.ownedByHost && !SELF_SIZED.has(e.content));
  if (count > eligible.length) throw new Error(`asked to change ${count} files; this tree has ${eligible.length} that can change`);
  const stride = eligible.length / count;
  const shift = round % Math.max(1, Math.floor(stride));
  const writes: TreeFile[] = [];
  for (let i = 0; i < count; i += 1) writes.push({ ...eligible[Math.min(eligible.length - 1, Math.floor(i * stride) + shift)]!, variant: round });
  return { message: `Update ${count} files across the configuration (round ${round})`, writes, removes: [], after: afterChange(repo, writes, []) };
}

/**
 * The smallest folder holding at least `minFiles` entries removed whole, as uninstalling an
 * integration or card does; `within` (e.g. `custom_components`) limits the choice to its direct
 * subfolders. Folders that hold a link, or that a link reaches into, are never chosen (the change
 * would break a link rather than remove a folder).
 */
export function folderRemoved(repo: readonly TreeEntry[], minFiles: number, within?: string): RealHouseChange {
  const counts = new Map<string, number>();
  const depth = within === undefined ? undefined : within.split('/').length + 1;
  for (const entry of repo) {
    for (let slash = entry.path.indexOf('/'); slash !== -1; slash = entry.path.indexOf('/', slash + 1)) {
      const folder = entry.path.slice(0, slash);
      if (depth !== undefined && (!folder.startsWith(`${within}/`) || folder.split('/').length !== depth)) continue;
      counts.set(folder, (counts.get(folder) ?? 0) + 1);
    }
  }
  const links = repo.flatMap((e) => (e.kind === 'symlink' ? [e.path, e.reaches] : []));
  const touchesLink = (folder: string) => links.some((p) => p.startsWith(`${folder}/`) || folder.startsWith(`${p}/`) || folder === p);
  let chosen: string | undefined;
  for (const [folder, n] of counts) {
    if (n < minFiles || touchesLink(folder)) continue;
    const best = chosen === undefined ? undefined : counts.get(chosen)!;
    if (best === undefined || n < best || (n === best && folder < chosen!)) chosen = folder;
  }
  if (chosen === undefined) {
    const largest = Math.max(0, ...[...counts].filter(([f]) => !touchesLink(f)).map(([, n]) => n));
    throw new Error(`no folder${within === undefined ? '' : ` directly under ${within}/`} of this tree holds ${minFiles} files without touching a link; the largest such folder holds ${largest}`);
  }
  const folder = chosen;
  const removes = repo.filter((e) => e.path.startsWith(`${folder}/`)).map((e) => e.path);
  return { message: `Remove ${folder} (${removes.length} files)`, writes: [], removes, removedFolder: folder, after: afterChange(repo, [], removes) };
}
