// What only the host holds: Home Assistant's state beside the configuration (.storage/, the
// recorder database with its -wal and -shm, logs, version and identity files, bans, the Nabu
// Casa link, pip packages, the TTS cache, backups, the real secrets), the bytecode it compiles
// for every custom integration module, and what add-ons and service calls leave in folders the
// repository also uses (ESPHome builds, camera snapshots). Sizes grow with the tree's.
import type { HostFile, TreeEntry } from './entries.ts';
import { STORAGE_FILES } from './host-text.ts';
import type { Prng } from './random.ts';
import { WORDS } from './text.ts';

const HA = 'Home Assistant';

function clamp(value: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, Math.round(value)));
}

export function hostLayout(repo: readonly TreeEntry[], totalBytes: number, random: Prng): HostFile[] {
  const repoPaths = new Set(repo.map((e) => e.path));
  const out: HostFile[] = [];
  const add = (path: string, content: HostFile['content'], size: number, ownership: HostFile['ownership'], writtenBy: string) =>
    out.push({ path, content, size, ownership, writtenBy, alsoInRepository: repoPaths.has(path) });

  add('secrets.yaml', 'secrets', 0, 'protected', 'the owner, by hand on the host: the real passwords and tokens');
  add('esphome/secrets.yaml', 'esphome-secrets', 0, 'protected', 'the owner, for the ESPHome add-on: real Wi-Fi and API keys');
  add('.HA_VERSION', 'ha-version', 0, 'protected', `${HA} at every start`);
  add('.uuid', 'uuid', 0, 'protected', `${HA} once, the installation's identity`);
  add('.ha_run.lock', 'run-lock', 0, 'protected', `${HA} while it runs`);
  add('ip_bans.yaml', 'ip-bans', 0, 'protected', `${HA}'s http integration when it bans an address`);
  add('known_devices.yaml', 'known-devices', 0, 'protected', `${HA}'s legacy device trackers`);

  const storageBytes = clamp(totalBytes / 40, 200_000, 16 << 20);
  const shares = STORAGE_FILES.reduce((sum, f) => sum + f.share, 0);
  for (const file of STORAGE_FILES) add(`.storage/${file.key}`, 'storage-json', Math.max(400, Math.round((storageBytes * file.share) / shares)), 'protected', `${HA}'s UI-managed state`);

  const database = clamp(totalBytes / 8, 256 << 10, 64 << 20);
  add('home-assistant_v2.db', 'sqlite', database, 'protected', `${HA}'s recorder`);
  add('home-assistant_v2.db-wal', 'sqlite-wal', clamp(database / 16, 32 << 10, 8 << 20), 'protected', `${HA}'s recorder (write-ahead log)`);
  add('home-assistant_v2.db-shm', 'sqlite-shm', 32 << 10, 'protected', `${HA}'s recorder (shared memory)`);
  add('zigbee.db', 'sqlite', clamp(totalBytes / 200, 64 << 10, 4 << 20), 'protected', 'the ZHA integration');
  const log = clamp(totalBytes / 200, 16 << 10, 4 << 20);
  add('home-assistant.log', 'log', log, 'protected', HA);
  add('home-assistant.log.1', 'log', log, 'protected', `${HA} (the previous run)`);
  add('home-assistant.log.fault', 'log', 2_000, 'protected', `${HA}'s fault handler`);

  add('.cloud/production_auth.json', 'storage-json', 2_000, 'protected', 'the Home Assistant Cloud link');
  add('.cloud/production_acme/account.json', 'storage-json', 1_200, 'protected', 'the Home Assistant Cloud link');
  for (const pkg of ['pyairvisual', 'pymiio_ext', 'tinytuya_patch']) {
    add(`deps/lib/python3.12/site-packages/${pkg}/__init__.py`, 'python', 3_000, 'protected', `${HA}'s package installer`);
    add(`deps/lib/python3.12/site-packages/${pkg}-1.0.0.dist-info/METADATA`, 'markdown', 1_500, 'protected', `${HA}'s package installer`);
  }
  for (let i = clamp(totalBytes / (40 << 20), 3, 30); i > 0; i -= 1) {
    add(`tts/${random.next().toString(16).padStart(8, '0')}${random.next().toString(16).padStart(8, '0')}_nl_-_google_translate.mp3`, 'mp3', random.around(30_000), 'protected', `${HA}'s text-to-speech cache`);
  }
  add('backups/3f2a9c1e.tar', 'backup-tar', clamp(totalBytes / 100, 64 << 10, 8 << 20), 'protected', `${HA}'s own backup`);

  // Bytecode beside every module of every custom integration, as Python writes it on import.
  for (const entry of repo) {
    if (entry.kind === 'symlink' || !entry.path.startsWith('custom_components/') || !entry.path.endsWith('.py')) continue;
    const slash = entry.path.lastIndexOf('/');
    const stem = entry.path.slice(slash + 1, -'.py'.length);
    add(`${entry.path.slice(0, slash)}/__pycache__/${stem}.cpython-312.pyc`, 'pyc', Math.max(64, Math.round(entry.size * 0.9)), 'protected', 'Python, compiling the custom integration on import');
  }

  // Written into folders the repository also has: a deploy must not take them for its own.
  for (const device of ['kitchen-sensor', 'garage-door']) {
    add(`esphome/.esphome/storage/${device}.yaml.json`, 'esphome-build', 900, 'unmanaged', 'the ESPHome add-on');
    add(`esphome/.esphome/build/${device}/.pioenvs/${device}/firmware.bin`, 'firmware', clamp(totalBytes / 400, 16 << 10, 1 << 20), 'unmanaged', 'the ESPHome add-on');
  }
  for (let i = 0; i < 6; i += 1) add(`www/snapshots/doorbell_${random.pick(WORDS)}_${i}.jpg`, 'jpeg', random.around(120_000), 'unmanaged', 'camera.snapshot, called by an automation');
  return out;
}
