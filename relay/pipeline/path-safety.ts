// Keeps every path the pipeline writes inside the config root. A commit's paths come from a git
// tree the relay fetched itself, but the relay treats them as untrusted anyway: a path that could
// land outside /config, or a symlink that points outside it, is refused by name before anything
// is backed up or written. Also home to the one glob matcher the pipeline uses, so include,
// exclude, protect and activation rules all read globs the same way.
import picomatch from 'picomatch';
import { globOfPath, withWayOut, type WayOut } from './way-out.ts';

/** What is wrong with a refused path; the message says it in words. */
export type PathProblem =
  | 'empty'
  | 'absolute'
  | 'escapes-root'
  | 'control-character'
  | 'not-utf8'
  | 'not-normalised'
  | 'too-long'
  | 'backslash'
  | 'symlink-without-target'
  | 'symlink-escapes'
  | 'symlink-to-root'
  | 'symlink-to-protected'
  | 'symlink-loop'
  | 'collides';

/**
 * One path the pipeline will not deploy, why, and what the owner can do about it. `String(error)`
 * reads `PathRefused: <what is wrong>; fix: <what to do>`.
 */
export class PathRefused extends Error {
  readonly code = 'PathRefused';
  override readonly name = 'PathRefused';

  constructor(
    readonly path: string,
    readonly problem: PathProblem,
    /** What is wrong, in a phrase that names the path. */
    readonly what: string,
    readonly wayOut: WayOut,
    readonly linkTarget?: string,
  ) {
    super(withWayOut(what, wayOut));
  }
}

/** NAME_MAX of every filesystem Home Assistant runs on (ext4, btrfs, xfs, exFAT counts characters). */
const MAX_NAME_BYTES = 255;
/**
 * PATH_MAX is 4096 bytes for one system call, and the host names a file by its staging path
 * (`<config>/.lanyard/staging/<job>/<path>`) too: 256 bytes are left for those.
 */
const MAX_PATH_BYTES = 3840;

// Control characters break the line-oriented listings the host scripts parse (a newline would
// split one name into two) and are never intended in a config file name.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/** A name cut to fit NAME_MAX with room to spare, its extension kept: the rename a refusal suggests. */
function shortName(name: string): string {
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  return `${[...name.slice(0, name.length - extension.length)].slice(0, 60).join('')}${extension}`;
}

/** How a path is quoted in messages: JSON escaping keeps a stray newline or NUL visible. */
function shown(path: string): string {
  return CONTROL_CHARACTER.test(path) ? JSON.stringify(path) : path;
}

/**
 * The canonical form of a repo-relative path: posix separators, no `.` or empty segments, `..`
 * resolved. Throws PathRefused for an absolute path, a `..` that climbs above the root, a
 * backslash (a Windows path or an escape trick: the host would read it as part of a name), a
 * control character, or a path that names the root itself.
 */
export function normaliseRepoPath(path: string): string {
  if (CONTROL_CHARACTER.test(path)) {
    throw new PathRefused(path, 'control-character', `${shown(path)} contains a control character (such as a newline or NUL)`, { kind: 'rename', why: 'without it', to: path.replace(CONTROL_CHARACTERS, '_') });
  }
  // git keeps names as bytes and the relay reads them as UTF-8: bytes that are not UTF-8 (a Latin-1
  // "é") decode to U+FFFD, and the host would get a file under another name than the repository's.
  if (path.includes('\uFFFD')) {
    throw new PathRefused(path, 'not-utf8', `${path} is not valid UTF-8 (the undecodable bytes show as \uFFFD), and Lanyard would write it under another name than git has`, { kind: 'rename', why: 'to a UTF-8 name', to: path.replaceAll('\uFFFD', '_') });
  }
  if (path.includes('\\')) {
    throw new PathRefused(path, 'backslash', `${path} contains a backslash, which is "/" on Windows and part of the name on the host`, { kind: 'rename', why: 'with "/" between folders and no "\\" in a name', to: path.replaceAll('\\', '_') });
  }
  if (path.startsWith('/')) {
    throw new PathRefused(path, 'absolute', `${path} is an absolute path, and paths must be relative to the deployed folder`, { kind: 'remake-commit' });
  }
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.length === 0) {
        throw new PathRefused(path, 'escapes-root', `${path} leaves the deployed folder through "..", and Lanyard writes nothing outside the config folder`, { kind: 'remake-commit' });
      }
      segments.pop();
      continue;
    }
    segments.push(segment);
  }
  const tooLong = segments.find((segment) => Buffer.byteLength(segment) > MAX_NAME_BYTES);
  if (tooLong !== undefined) {
    throw new PathRefused(path, 'too-long', `${path.slice(0, 120)}… has a name of ${Buffer.byteLength(tooLong)} bytes, and a file system takes at most ${MAX_NAME_BYTES}`, {
      kind: 'rename',
      why: `to names of at most ${MAX_NAME_BYTES} bytes`,
      to: segments.map((segment) => (Buffer.byteLength(segment) > MAX_NAME_BYTES ? shortName(segment) : segment)).join('/'),
    });
  }
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) {
    throw new PathRefused(path, 'too-long', `${path.slice(0, 120)}… is ${Buffer.byteLength(path)} bytes long, and Lanyard deploys paths of at most ${MAX_PATH_BYTES} bytes (the host limits a path to 4096, config folder included)`, {
      kind: 'rename',
      why: `to a path of at most ${MAX_PATH_BYTES} bytes (shorter folder names)`,
      to: null,
    });
  }
  if (segments.length === 0) {
    throw new PathRefused(path, 'empty', `${JSON.stringify(path)} names the deployed folder itself, not a file`, { kind: 'remake-commit' });
  }
  return segments.join('/');
}

/**
 * Checks the text of a symlink entry: a target, and no control character in it. Where the link
 * leads is decided by link-resolution.ts, through every other link of the commit and the host.
 */
export function checkLinkText(path: string, target: string | undefined): string {
  if (target === undefined || target === '') {
    throw new PathRefused(path, 'symlink-without-target', `${path} is a symlink with no target`, { kind: 'change', action: 'point it at a file in the repository', globs: [globOfPath(path)] });
  }
  if (CONTROL_CHARACTER.test(target)) {
    throw new PathRefused(path, 'control-character', `${path} is a symlink whose target ${shown(target)} contains a control character`, { kind: 'change', action: 'commit a link whose target has none', globs: [globOfPath(path)] }, target);
  }
  return target;
}

/**
 * Reads a user's glob the way every Lanyard rule does: relative to the deployed folder, matched
 * against the whole path (`*.yaml` is the root only, `**\/*.yaml` any depth), dotfiles included,
 * and a trailing `/` meaning "everything in this folder".
 */
export function normaliseGlob(glob: string): string {
  const trimmed = glob.trim().replace(/^\.\//, '');
  return trimmed.endsWith('/') ? `${trimmed}**` : trimmed;
}

/**
 * One compiled matcher for a list of globs; an empty list matches nothing. `ignoreCase` for names
 * that must be caught however they are spelt (a case-insensitive host folder makes them one file).
 */
export function globMatcher(globs: readonly string[], options: { ignoreCase?: boolean } = {}): (path: string) => boolean {
  const patterns = globs.map(normaliseGlob).filter((g) => g !== '');
  if (patterns.length === 0) return () => false;
  // `windows: false`: paths are posix whatever machine the relay runs on.
  return picomatch(patterns, { dot: true, windows: false, nocase: options.ignoreCase === true });
}
