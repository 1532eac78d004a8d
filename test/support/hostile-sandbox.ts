// A house for tests that play a compromised edge: a real relay process (local or ssh transport)
// connected to a fake edge, the config folder with the house's own secrets and state, the relay's
// state folder, its backup folder, and "victims" beside them: folders and files no job may touch,
// placed exactly where an id such as `../../../victim` would land from the staging folder, the
// outbox or the backup folder. `outside()` lists everything but the three folders the relay may
// write, so one comparison proves nothing else changed.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { startFakeEdge, type FakeEdge } from './fake-edge.ts';
import { createHouse, HOST_ONLY_FILES, snapshotTree, sshTransportOf, TEST_SECRETS, type House, type TreeEntry } from './house.ts';
import { startRelayProcess, type RelayProcess } from './relay-process.ts';
import { startSshd, type Sshd } from './sshd.ts';

const run = promisify(execFile);

/** The house's own files no job may change: HOST_ONLY_FILES and ESPHome's secrets. */
export const PROTECTED_FILES: Record<string, string> = { ...HOST_ONLY_FILES, 'esphome/secrets.yaml': 'wifi_password: "real-wifi-password"\n' };

/** Files beside the relay's folders; `victim` is where `../../../victim` lands from the staging folder and the outbox. */
const VICTIMS: Record<string, string> = {
  'victim/keep.txt': 'a folder beside the config folder\n',
  'victim/nested/deep.txt': 'deeper still\n',
  'victim.json': '{"not": "an outbox file"}\n',
  'victim.tar.gz': 'not a backup\n',
  'config-sibling.txt': 'beside the config\n',
};

export type Transport = 'local' | 'ssh';

export interface HostileSandbox {
  readonly transport: Transport;
  readonly house: House;
  readonly edge: FakeEdge;
  readonly relay: RelayProcess;
  readonly sshd: Sshd | null;
  /** The commits of the repository, oldest first: each one a job may really deploy. */
  readonly shas: string[];
  /** Where the relay keeps backups; made by Lanyard on the ssh transport, inside a folder the owner made. */
  readonly backupDir: string;
  /** Every path outside the config, state and backup folders, with hashes and modes. */
  outside(): Promise<Record<string, TreeEntry>>;
  /** The protected files as they are now. */
  protectedFiles(): Promise<Record<string, string>>;
  /** False once the relay process has exited. */
  relayAlive(): boolean;
  /** Stops the relay, changes its config, and starts it again on the same state. */
  restartRelay(change: (config: Record<string, any>) => void): Promise<void>;
  stop(): Promise<void>;
}

async function writeFiles(root: string, files: Record<string, string>, owner: string | null): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
  // Owned by the user the relay logs in as, so a wrong path really could delete them.
  if (owner) for (const top of new Set(Object.keys(files).map((p) => p.split('/')[0]!))) await run('chown', ['-R', `${owner}:`, join(root, top)]);
}

export async function startHostileSandbox(transport: Transport): Promise<HostileSandbox> {
  const edge = await startFakeEdge({ token: TEST_SECRETS.relayToken, target: 'home' });
  const sshd = transport === 'ssh' ? await startSshd() : null;
  // Over ssh the backups go to a folder Lanyard makes inside one the owner made (as /backup on HA OS).
  const ssh = sshd ? { ...sshTransportOf(sshd), backupDir: join(sshd.homeDir, 'backup', 'lanyard') } : null;
  const house = await createHouse({ edgeUrl: edge.url, transport: ssh ?? { kind: 'local' }, restartDelayMs: 50 });
  if (ssh) await rm(ssh.backupDir, { recursive: true });
  const owner = sshd?.username ?? null;
  await writeFiles(house.configRoot, { 'esphome/secrets.yaml': PROTECTED_FILES['esphome/secrets.yaml']! }, owner);
  await writeFiles(house.dir, VICTIMS, null);
  if (sshd) await writeFiles(sshd.homeDir, { ...VICTIMS, 'backup/home-assistant-full-backup.tar': 'Home Assistant\'s own backup\n' }, owner);

  // Two more commits, each a change Home Assistant takes with a reload: a real deploy, and a quick one.
  const shas = [await run('git', ['-C', house.work, 'rev-parse', 'HEAD']).then((r) => r.stdout.trim())];
  shas.push(await house.commit({ 'automations.yaml': '- id: porch\n  alias: Porch light\n  trigger: []\n  action: []\n' }, 'Simpler porch automation'));
  shas.push(await house.commit({ 'scripts.yaml': 'goodnight:\n  alias: Good night\n  sequence: []\n', 'www/hello.txt': 'hello\n' }, 'Good night script'));

  let relay = startRelayProcess(house.relayConfigPath);
  // Only an exit nobody asked for counts: restartRelay stops the old process on purpose.
  let stopping = false;
  let exited = false;
  const watch = (r: RelayProcess) => void r.exited.then(() => (exited ||= !stopping));
  watch(relay);
  await edge.connected();

  const state = house.stateDir;
  const backupDir = ssh?.backupDir ?? house.backupDir;
  const mayChange = [house.configRoot, state, backupDir];
  const roots = sshd ? [house.dir, sshd.homeDir] : [house.dir];
  return {
    transport,
    house,
    edge,
    get relay() {
      return relay;
    },
    sshd,
    shas,
    backupDir,
    async outside() {
      const listing: Record<string, TreeEntry> = {};
      for (const root of roots) {
        const skipped = mayChange.map((p) => relative(root, p)).filter((p) => !p.startsWith('..'));
        const tree = await snapshotTree(root, (path) => skipped.some((s) => path === s || path.startsWith(`${s}/`)));
        for (const [path, entry] of Object.entries(tree)) listing[join(root, path)] = entry;
      }
      return listing;
    },
    async protectedFiles() {
      const now: Record<string, string> = {};
      for (const path of Object.keys(PROTECTED_FILES)) now[path] = await readFile(join(house.configRoot, path), 'utf8').catch((error: NodeJS.ErrnoException) => `(${error.code})`);
      return now;
    },
    relayAlive: () => !exited,
    async restartRelay(change) {
      stopping = true;
      await relay.kill('SIGTERM');
      stopping = false;
      const config = parse(await readFile(house.relayConfigPath, 'utf8')) as Record<string, any>;
      change(config);
      await writeFile(house.relayConfigPath, stringify(config));
      const from = edge.received.length;
      relay = startRelayProcess(house.relayConfigPath);
      watch(relay);
      await edge.waitFor((m) => m.type === 'hello', from);
      await edge.connected();
    },
    async stop() {
      stopping = true;
      await relay.kill('SIGTERM');
      await edge.close();
      await house.close();
      if (sshd) {
        await sshd.stop();
      }
    },
  };
}
