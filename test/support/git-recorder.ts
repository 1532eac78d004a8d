// A recorder of the git commands a relay runs: a `git` early on the relay's PATH (the one variable
// of the environment its git CLI passes on) that notes its argv in a file and then runs the real
// git with it. Nothing is stood in for: every command still reaches the real git.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GitRecorder {
  /** The folder to put first on the relay's PATH. */
  readonly binDir: string;
  /** Every argv recorded so far, oldest first. */
  commands(): Promise<string[][]>;
  close(): Promise<void>;
}

const FIELD = '\u001f';
const RECORD = '\u001e';

export async function startGitRecorder(realGit = '/usr/bin/git'): Promise<GitRecorder> {
  const binDir = await mkdtemp(join(tmpdir(), 'lanyard-git-recorder-'));
  const log = join(binDir, 'commands.log');
  await writeFile(log, '');
  // printf's %s takes each argument whole (spaces, newlines, anything but NUL, which argv cannot hold).
  await writeFile(join(binDir, 'git'), `#!/bin/sh\nprintf '%s\\037' "$@" >> '${log}'\nprintf '\\036' >> '${log}'\nexec '${realGit}' "$@"\n`, { mode: 0o755 });
  return {
    binDir,
    async commands() {
      const text = await readFile(log, 'utf8');
      return text.split(RECORD).filter((r) => r.length).map((r) => r.split(FIELD).slice(0, -1));
    },
    close: () => rm(binDir, { recursive: true, force: true }),
  };
}
