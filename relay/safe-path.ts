// The one way the relay names a file or folder after something it was sent: a job id names a
// staging folder and an outbox file, a backup id names an archive and its record. The name must
// have the exact shape of its kind, and the path built from it is proven to sit directly inside
// its folder, whatever the name holds, so that no message can make the relay write, read or
// delete anywhere else (a job id of `../../../config` once emptied the config folder).
import { posix } from 'node:path';
import { BACKUP_ID_PATTERN, DEPLOYMENT_ID_PATTERN } from '../shared/ids.ts';
import { CodedError } from './coded-error.ts';

/** What a name must look like: its pattern, and what to call it in a refusal. */
export interface NameShape {
  readonly what: string;
  readonly pattern: RegExp;
}

export const JOB_ID_SHAPE: NameShape = { what: 'a job id (dep_ and 18 base32 characters)', pattern: DEPLOYMENT_ID_PATTERN };
export const BACKUP_ID_SHAPE: NameShape = { what: 'a Lanyard backup id (see `relay backups`)', pattern: BACKUP_ID_PATTERN };

export class UnsafeName extends CodedError<'unsafe_name'> {
  constructor(message: string) {
    super('unsafe_name', message);
  }
}

// Characters no name of ours holds: a NUL ends a C string early, a newline splits a listing line.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** How a refused name is quoted: JSON keeps a NUL or newline visible, and a huge one is cut. */
function quoted(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
}

/**
 * The absolute path of `name + suffix` directly inside `folder`. Throws UnsafeName, having touched
 * nothing, when `name` does not have `shape`, or when the entry would be empty, `.` or `..`, hold a
 * `/`, a backslash or a control character, or resolve anywhere but directly inside the folder.
 */
export function pathInside(folder: string, shape: NameShape, name: unknown, suffix = ''): string {
  if (typeof name !== 'string' || !shape.pattern.test(name)) {
    throw new UnsafeName(`${typeof name === 'string' ? quoted(name) : String(name)} is not ${shape.what}; refused before it named any file`);
  }
  if (!posix.isAbsolute(folder) || CONTROL_CHARACTER.test(folder)) throw new UnsafeName(`${quoted(folder)} is not an absolute folder`);
  const entry = `${name}${suffix}`;
  if (entry === '' || entry === '.' || entry === '..' || entry.includes('/') || entry.includes('\\') || CONTROL_CHARACTER.test(entry)) {
    throw new UnsafeName(`${quoted(entry)} cannot be a file name in ${folder}; refused`);
  }
  const base = posix.resolve(folder);
  const full = posix.resolve(base, entry);
  // The proof, independent of the checks above: resolved, the path is one entry below the folder.
  const prefix = base === '/' ? '/' : `${base}/`;
  if (!full.startsWith(prefix) || full.length <= prefix.length || posix.dirname(full) !== base) {
    throw new UnsafeName(`${quoted(entry)} resolves to ${full}, outside ${base}; refused`);
  }
  return full;
}

/**
 * The absolute path of `relative` (a path as the manifest and the host's listing spell it, such as
 * `packages/lights.yaml`) under the config folder `root`. Throws UnsafeName, having touched nothing,
 * for an absolute path, an empty, `.` or `..` part, a control character, or anything that would
 * resolve outside `root`.
 */
export function pathUnderRoot(root: string, relative: unknown): string {
  if (typeof relative !== 'string' || relative === '' || relative.startsWith('/') || CONTROL_CHARACTER.test(relative)) {
    throw new UnsafeName(`${typeof relative === 'string' ? quoted(relative) : String(relative)} is not a path inside the config folder; refused before it named any file`);
  }
  if (relative.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new UnsafeName(`${quoted(relative)} has an empty, "." or ".." part; refused before it named any file`);
  }
  if (!posix.isAbsolute(root) || CONTROL_CHARACTER.test(root)) throw new UnsafeName(`${quoted(root)} is not an absolute folder`);
  const base = posix.resolve(root);
  const full = posix.resolve(base, relative);
  const prefix = base === '/' ? '/' : `${base}/`;
  if (!full.startsWith(prefix) || full.length <= prefix.length) throw new UnsafeName(`${quoted(relative)} resolves to ${full}, outside ${base}; refused`);
  return full;
}
