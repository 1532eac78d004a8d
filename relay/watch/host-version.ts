// The host's version of one drifted file, for its diff: the only place the drift watch reads a
// file's bytes from the host. A protected path is refused here before any command is built (the
// comparison never names one, and this is the second lock on the door); the path goes through
// safe-path.ts; a folder on the way that became a link (so the bytes would come from elsewhere) is
// refused by the script itself; and no more than MAX_DIFFED_FILE_BYTES are read.
import { CodedError } from '../coded-error.ts';
import { pathUnderRoot } from '../safe-path.ts';
import { shellQuote, type TargetHost } from '../transport/target-host.ts';
import { MAX_DIFFED_FILE_BYTES } from './drift-diff.ts';

export class HostVersionRefused extends CodedError<'protected_path' | 'moved_through_link' | 'too_large' | 'host_command_failed'> {}

/** The bytes of `path` (relative to `root`), or null when it is not a regular file there now. */
export async function readHostVersion(host: TargetHost, root: string, path: string, isProtected: (path: string) => boolean): Promise<Buffer | null> {
  if (isProtected(path)) throw new HostVersionRefused('protected_path', `${path} is protected: the drift watch never reads it`);
  const full = pathUnderRoot(root, path);
  const slash = path.lastIndexOf('/');
  const folder = slash > 0 ? path.slice(0, slash) : '';
  const script = [
    `root=$(cd -P -- ${shellQuote(root)} 2>/dev/null && pwd) || exit 44`,
    `dir=$(cd -P -- ${shellQuote(folder ? `${root}/${folder}` : root)} 2>/dev/null && pwd) || exit 44`,
    // Where the folder really is must be where the listing saw it: not through a link made since.
    `[ "$dir" = "$root"${shellQuote(folder ? `/${folder}` : '')} ] || exit 46`,
    `if [ -f ${shellQuote(full)} ] && [ ! -L ${shellQuote(full)} ]; then head -c ${MAX_DIFFED_FILE_BYTES + 1} -- ${shellQuote(full)}; else exit 44; fi`,
  ].join('\n');
  const result = await host.run(script);
  if (result.code === 44) return null;
  if (result.code === 46) throw new HostVersionRefused('moved_through_link', `a folder above ${path} is now a link; not read`);
  if (result.code !== 0) throw new HostVersionRefused('host_command_failed', `reading ${path} failed on ${host.description} (exit ${result.code}): ${result.stderr.trim().slice(0, 200)}`);
  if (result.stdout.length > MAX_DIFFED_FILE_BYTES) throw new HostVersionRefused('too_large', `${path} grew past ${MAX_DIFFED_FILE_BYTES / 1024} KiB; not diffed`);
  return result.stdout;
}
