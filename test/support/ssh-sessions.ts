// Kills every SSH session of the tests' sshd listening on a port, whole: the per-connection sshd
// processes and everything under them (the user's sshd, its shell, the tar it runs). sshd.ts's
// dropConnections() kills only sshd's direct children, the privileged monitors, and with privilege
// separation the user's half of a session can carry on for seconds after that: an upload in
// flight may even finish. A kill that must land *inside* a transfer takes the whole tree at once.
// Found through /proc: the process holding the listening socket, then its descendants.
import { readdir, readFile, readlink } from 'node:fs/promises';

async function listeningInode(port: number): Promise<string | null> {
  const table = await readFile('/proc/net/tcp', 'utf8');
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // st 0A is LISTEN.
    if (fields[1] === local && fields[3] === '0A') return fields[9] ?? null;
  }
  return null;
}

async function processTable(): Promise<Array<{ pid: number; ppid: number }>> {
  const rows: Array<{ pid: number; ppid: number }> = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => null);
    if (!stat) continue;
    rows.push({ pid: Number(name), ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) });
  }
  return rows;
}

async function holderOf(inode: string, table: Array<{ pid: number }>): Promise<number | null> {
  for (const { pid } of table) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === `socket:[${inode}]`) return pid;
    }
  }
  return null;
}

/** SIGKILLs every process below the sshd listening on 127.0.0.1:port; resolves with how many. */
export async function killSshSessions(port: number): Promise<number> {
  const inode = await listeningInode(port);
  if (!inode) throw new Error(`nothing listens on 127.0.0.1:${port}`);
  const table = await processTable();
  const sshd = await holderOf(inode, table);
  if (sshd === null) throw new Error(`no process holds the socket listening on 127.0.0.1:${port}`);
  const below = new Set<number>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const { pid, ppid } of table) {
      if ((ppid === sshd || below.has(ppid)) && !below.has(pid)) {
        below.add(pid);
        grew = true;
      }
    }
  }
  for (const pid of below) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  return below.size;
}
