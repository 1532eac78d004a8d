// Home Assistant running as a user of its own, as Core in a venv does (`homeassistant`) and some
// Container setups (PUID/PGID): a second system user, `lanyard-ha`, whose group the relay's SSH
// user (`lanyard-test`, test/support/sshd.ts) is a member of, as docs/production.md sets it up.
// And what that Home Assistant does to its files: save an automation from the UI (a temporary file
// renamed over the old one, as homeassistant/util/file.py's write_utf8_file_atomic does, mode 0644)
// or save it in place as an editor does (truncate and write). Both run as that user's own process.
// Root only (useradd, runuser).
import { execFile, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RUNUSER } from './busybox-host.ts';

const run = promisify(execFile);
export const HA_USER = 'lanyard-ha';

export interface HomeAssistantUser {
  name: string;
  uid: number;
  gid: number;
}

// Serialized with sshd.ts's own useradd (the same lock): concurrent useradds race on /etc/passwd.
const CREATE = (member: string) => `
  getent passwd ${HA_USER} >/dev/null || useradd --system --user-group --no-create-home --shell /usr/sbin/nologin ${HA_USER} || exit
  getent passwd ${member} >/dev/null || exit 0
  id -nG ${member} | tr ' ' '\\n' | grep -qx ${HA_USER} || usermod -aG ${HA_USER} ${member}
`;

/** Creates (once) Home Assistant's user and its group, and makes `member` a member of that group. */
export async function ensureHomeAssistantUser(member: string): Promise<HomeAssistantUser> {
  if (process.getuid?.() !== 0) throw new Error('a second user for Home Assistant needs root (useradd, runuser)');
  await run('flock', [join(tmpdir(), 'lanyard-test-user.lock'), 'sh', '-c', CREATE(member)]).catch((error: Error & { stderr?: string }) => {
    throw new Error(`could not create the user ${HA_USER}: ${error.stderr?.trim() || error.message}`);
  });
  const fields = (await run('getent', ['passwd', HA_USER])).stdout.trim().split(':');
  return { name: HA_USER, uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** Runs `script` in sh as `user` (with its groups), `input` on stdin; rejects with its stderr on a non-zero exit. */
export function runAs(user: string, script: string, input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(RUNUSER, ['-u', user, '--', 'sh', '-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`as ${user}: ${script} exited ${code}: ${err.trim()}`))));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

function quoted(path: string): string {
  return `'${path.replaceAll("'", `'\\''`)}'`;
}

/** Home Assistant's UI editor saving `file` (absolute): a temporary file in its folder, mode 0644, renamed over it. */
export function saveFromTheUi(user: string, file: string, text: string): Promise<string> {
  return runAs(user, `set -e; f=${quoted(file)}; t=$(mktemp "$(dirname "$f")/.tmpXXXXXX"); cat > "$t"; chmod 0644 "$t"; mv -f "$t" "$f"`, text);
}

/** An editor saving `file` in place (truncate and write), as VS Code or a Samba share does. */
export function saveInPlace(user: string, file: string, text: string): Promise<string> {
  return runAs(user, `cat > ${quoted(file)}`, text);
}
