// What a deploy leaves behind once it deleted files: the folders it emptied, and the bytecode
// Python compiled for modules it removed. git has no folders, so a commit that removes an
// integration of 1,300 files removes 1,300 files; without this the host kept their folders as an
// empty tree, with `__pycache__/*.pyc` beside each removed module.
//
// Only two things are removed, both in the same script as the deletes (one round trip):
// - `x/__pycache__/foo.<tag>[.opt-N].pyc` of each `x/foo.py` this very deploy deleted. Bytecode is
//   protected (`__pycache__/`, relay/pipeline/protected-paths.ts) and never written or deleted
//   otherwise; a .pyc whose source is gone is never imported again (Python only reads
//   `__pycache__` next to a source file), and Home Assistant compiles it anew if the module
//   comes back. The bytecode of any other module, and `foo.bar.<tag>.pyc` of a module `foo.bar`,
//   stays.
// - Folders that became empty: the folder of each deleted path, then its parents while they are
//   empty, never the config root. `rmdir` removes an empty folder and nothing else, so a folder
//   that still holds a host-only or protected file (an add-on's output, a secrets.yaml, HA's
//   bytecode of a module that stays) is left with it; a folder that was empty before the deploy
//   is never a candidate (each candidate held a deleted path), and no recursive delete is used.
//
// Everything runs in POSIX sh with busybox's rmdir and rm, as on Home Assistant OS's SSH add-on.
import { shellQuote } from '../transport/target-host.ts';

/** The folder a config path is in ('' at the root), and its parents up to (not including) the root. */
function foldersAbove(path: string): string[] {
  const out: string[] = [];
  for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) out.push(path.slice(0, slash));
  return out;
}

/** Modules the delete removes: `x/foo.py` → the `__pycache__` folder and the file-name prefix of its bytecode. */
export function removedModules(toDelete: readonly string[]): { pycache: string; prefix: string }[] {
  const out: { pycache: string; prefix: string }[] = [];
  for (const path of toDelete) {
    if (!path.endsWith('.py')) continue;
    const slash = path.lastIndexOf('/');
    const stem = path.slice(slash + 1, -'.py'.length);
    if (!stem) continue;
    const pycache = slash === -1 ? '__pycache__' : `${path.slice(0, slash)}/__pycache__`;
    out.push({ pycache, prefix: `${pycache}/${stem}.` });
  }
  return out;
}

/**
 * The folders that may have become empty, deepest first (a folder before its parent), each once:
 * the folders of the deleted paths and all their parents, and the `__pycache__` of each removed module.
 */
export function emptiedFolderCandidates(toDelete: readonly string[]): string[] {
  const candidates = new Set<string>();
  for (const { pycache } of removedModules(toDelete)) candidates.add(pycache);
  for (const path of toDelete) for (const folder of foldersAbove(path)) candidates.add(folder);
  const depth = (folder: string) => folder.split('/').length;
  return [...candidates].sort((a, b) => depth(b) - depth(a) || (a < b ? 1 : a > b ? -1 : 0));
}

/** Arguments per `rmdir`: keeps each command line far below any ARG_MAX. */
const RMDIR_BATCH = 500;

/**
 * Shell lines that remove the removed modules' bytecode, then the emptied folders, printing
 * `@@rmdir ./folder` for each folder removed. Run after the deletes, from the config root.
 */
export function emptiedFoldersScript(toDelete: readonly string[]): string[] {
  const lines: string[] = [];
  const modules = removedModules(toDelete);
  if (modules.length) {
    // The tag is Python's cache tag (cpython-312), with .opt-1 or .opt-2 for optimised bytecode;
    // a rest with another dot belongs to a module whose own name has a dot. The prefix is quoted:
    // a module name holding * or [ is matched as it is.
    lines.push(
      'drop_bytecode() {',
      '  for f in "$1"*.pyc; do',
      '    if [ -L "$f" ] || [ ! -f "$f" ]; then continue; fi',
      '    t=${f#"$1"}; t=${t%.pyc}; t=${t%.opt-[0-9]}',
      '    case $t in ""|*.*) continue ;; esac',
      '    rm -f "$f"',
      '  done',
      '}',
      ...modules.map((m) => `drop_bytecode ${shellQuote(`./${m.prefix}`)}`),
    );
  }
  const candidates = emptiedFolderCandidates(toDelete);
  for (let i = 0; i < candidates.length; i += RMDIR_BATCH) {
    const batch = candidates.slice(i, i + RMDIR_BATCH).map((f) => shellQuote(`./${f}`)).join(' ');
    // Only real folders are tried (never a link to one), deepest first in one rmdir, which goes on
    // past a folder that is not empty; what is gone afterwards was removed.
    lines.push(
      'set --',
      `for d in ${batch}; do if [ -d "$d" ] && [ ! -L "$d" ]; then set -- "$@" "$d"; fi; done`,
      'if [ $# -gt 0 ]; then rmdir "$@" 2>/dev/null || :; fi',
      `for d in "$@"; do if [ ! -e "$d" ]; then printf '@@rmdir %s\\n' "$d"; fi; done`,
    );
  }
  return lines;
}

/** The folders an emptiedFoldersScript said it removed, relative to the config root. */
export function removedFoldersIn(stdout: string): string[] {
  const out: string[] = [];
  for (const line of stdout.split('\n')) if (line.startsWith('@@rmdir ./')) out.push(line.slice('@@rmdir ./'.length));
  return out;
}
