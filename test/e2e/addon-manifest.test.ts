// The add-on as the Supervisor sees it when this repository's URL is added to the add-on store,
// checked offline against the Supervisor's own rules (supervisor/store/validate.py for
// repository.yaml; supervisor/addons/validate.py and options.py for config.yaml and its options;
// supervisor/store/data.py for how add-ons are found: every `config.{json,yaml,yml}` below the
// repository root, outside dot-folders and `rootfs`). The Supervisor builds the image from the
// add-on folder alone, so everything its Dockerfile copies must be in that folder, and the bundled
// relay there must be the version the manifest announces and must read what run.sh writes.
import { execFile } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_VERSION } from '../../relay/version.ts';
import { LANYARD_VERSION } from '../../shared/release-version.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const ADDON = join(ROOT, 'deploy/addon');

// supervisor/const.py, addons/const.py, addons/validate.py, addons/options.py.
const ARCH_ALL = ['armhf', 'armv7', 'aarch64', 'amd64', 'i386'];
const RE_SLUG_FIELD = /^[-_.A-Za-z0-9]+$/;
const STARTUP = ['initialize', 'system', 'services', 'application', 'once'];
const BOOT = ['auto', 'manual', 'manual_only'];
const RE_VOLUME = /^(data|config|ssl|addons|backup|share|media|homeassistant_config|all_addon_configs|addon_config)(?::(rw|ro))?$/;
const RE_SCHEMA_ELEMENT =
  /^(?:|bool|email|url|port|device(?:\((?<filter>subsystem=[a-z]+)\))?|str(?:\((?<s_min>\d+)?,(?<s_max>\d+)?\))?|password(?:\((?<p_min>\d+)?,(?<p_max>\d+)?\))?|int(?:\((?<i_min>\d+)?,(?<i_max>\d+)?\))?|float(?:\((?<f_min>[\d.]+)?,(?<f_max>[\d.]+)?\))?|match\((?<match>.*)\)|list\((?<list>.+)\))\??$/;
/** Every key _SCHEMA_ADDON_CONFIG knows: any other is dropped in silence (REMOVE_EXTRA), so a typo would be lost. */
const KNOWN_KEYS = new Set([
  'name', 'version', 'slug', 'description', 'arch', 'machine', 'url', 'startup', 'boot', 'init', 'advanced', 'stage', 'ports', 'ports_description', 'watchdog', 'webui',
  'ingress', 'ingress_port', 'ingress_entry', 'ingress_stream', 'panel_icon', 'panel_title', 'panel_admin', 'homeassistant', 'host_network', 'host_pid', 'host_ipc', 'host_uts',
  'host_dbus', 'devices', 'udev', 'tmpfs', 'map', 'environment', 'privileged', 'apparmor', 'full_access', 'audio', 'video', 'gpio', 'usb', 'uart', 'devicetree',
  'kernel_modules', 'realtime', 'hassio_api', 'hassio_role', 'homeassistant_api', 'stdin', 'legacy', 'docker_api', 'auth_api', 'services', 'discovery', 'backup_exclude',
  'backup_pre', 'backup_post', 'restore_pre', 'restore_post', 'backup', 'options', 'schema', 'image', 'ulimits', 'timeout', 'journald', 'breaking_versions',
]);

function isUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return Boolean(url.protocol && url.host);
  } catch {
    return false;
  }
}

type Schema = Record<string, string | string[]>;

/** AddonOptions.__call__: the options the Supervisor accepts at start, or the message it refuses them with. */
function validateOptions(schema: Schema, options: Record<string, unknown>): string | null {
  const single = (type: string, value: unknown, key: string): string | null => {
    if (value === null || value === undefined) return `Missing required option '${key}'`;
    const match = RE_SCHEMA_ELEMENT.exec(type);
    if (!match) return `Unknown type '${type}'`;
    if (type.startsWith('url')) return isUrl(value) ? null : `expected a URL for option '${key}'`;
    if (type.startsWith('match')) return new RegExp(`^(?:${match.groups!.match})`).test(String(value)) ? null : `does not match regular expression for option '${key}'`;
    if (type.startsWith('str') || type.startsWith('password')) return typeof value === 'string' || typeof value === 'number' ? null : `expected str for option '${key}'`;
    if (type.startsWith('bool')) return typeof value === 'boolean' ? null : `expected boolean for option '${key}'`;
    return null;
  };
  for (const [key, value] of Object.entries(options)) {
    const type = schema[key];
    if (type === undefined) return `Option '${key}' does not exist in the schema`;
    if (Array.isArray(type)) {
      if (!Array.isArray(value)) return `Invalid list for option '${key}'`;
      for (const element of value) {
        const problem = single(type[0]!, element, key);
        if (problem) return problem;
      }
    } else {
      const problem = single(type, value, key);
      if (problem) return problem;
    }
  }
  for (const [key, type] of Object.entries(schema)) {
    const element = Array.isArray(type) ? type[0]! : type;
    if (!(key in options) && !element.endsWith('?') && !Array.isArray(type)) return `Missing option '${key}' in root`;
  }
  return null;
}

let manifest: Record<string, unknown>;
let dir: string;

beforeAll(async () => {
  manifest = parse(await readFile(join(ADDON, 'config.yaml'), 'utf8')) as Record<string, unknown>;
  dir = await mkdtemp(join(tmpdir(), 'lanyard-addon-manifest-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the add-on repository', () => {
  it('repository.yaml at the root is what the Supervisor reads (a name; a valid url and maintainer if given)', async () => {
    const repository = parse(await readFile(join(ROOT, 'repository.yaml'), 'utf8')) as Record<string, unknown>;
    expect(typeof repository.name).toBe('string');
    if (repository.url !== undefined) expect(isUrl(repository.url)).toBe(true);
    if (repository.maintainer !== undefined) expect(typeof repository.maintainer).toBe('string');
  });

  it('holds exactly one add-on: no other file the Supervisor would take for an add-on manifest', async () => {
    const { stdout } = await run('git', ['ls-files'], { cwd: ROOT });
    const manifests = stdout
      .split('\n')
      .filter((path) => /(^|\/)config\.(json|ya?ml)$/.test(path))
      .filter((path) => !path.split('/').some((part) => part.startsWith('.') || part === 'rootfs'));
    expect(manifests).toEqual(['deploy/addon/config.yaml']);
  });
});

describe('the add-on manifest', () => {
  it('passes the Supervisor\'s schema, with no key it would drop in silence', () => {
    expect(Object.keys(manifest).filter((k) => !KNOWN_KEYS.has(k))).toEqual([]);
    expect(typeof manifest.name).toBe('string');
    expect(typeof manifest.description).toBe('string');
    expect(manifest.slug).toMatch(RE_SLUG_FIELD);
    expect(manifest.version).toMatch(/^\d+(\.\d+)*$/);
    expect((manifest.arch as string[]).filter((a) => !ARCH_ALL.includes(a))).toEqual([]);
    expect(isUrl(manifest.url)).toBe(true);
    expect(STARTUP).toContain(manifest.startup);
    expect(BOOT).toContain(manifest.boot);
    expect(typeof manifest.init).toBe('boolean');
    // An invalid map entry is skipped with a warning: the add-on would start without its folders.
    expect((manifest.map as string[]).filter((m) => !RE_VOLUME.test(m))).toEqual([]);
    expect(manifest.map).toEqual(expect.arrayContaining(['homeassistant_config:rw', 'backup:rw']));
    // Home Assistant's own backups need the Supervisor's API with the `backup` role: asked for, and no more.
    expect(manifest.hassio_api).toBe(true);
    expect(manifest.hassio_role).toBe('backup');
    expect(manifest.homeassistant_api).toBe(true);
    for (const wider of ['full_access', 'docker_api', 'host_network', 'privileged', 'auth_api']) expect(manifest[wider], wider).toBeUndefined();
    for (const element of Object.values(manifest.schema as Schema)) {
      for (const type of Array.isArray(element) ? element : [element]) expect(type).toMatch(RE_SCHEMA_ELEMENT);
    }
  });

  it('announces the version of the relay bundled beside it, the repository\'s version', async () => {
    const packageJson = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(manifest.version).toBe(packageJson.version);
    expect(manifest.version).toBe(RELAY_VERSION);
    expect(manifest.version).toBe(LANYARD_VERSION);
    const bundle = await readFile(join(ADDON, 'relay.mjs'), 'utf8');
    expect(/RELAY_VERSION = "([^"]+)"/.exec(bundle)?.[1], 'deploy/addon/relay.mjs is stale: npm run build:addon').toBe(manifest.version);
  });

  it('is built from its own folder: everything the Dockerfile copies is there', async () => {
    const dockerfile = await readFile(join(ADDON, 'Dockerfile'), 'utf8');
    const sources = [...dockerfile.matchAll(/^COPY\s+(\S+)\s+\S+$/gm)].map((m) => m[1]!);
    expect(sources).toEqual(['relay.mjs', 'run.sh']);
    for (const source of sources) await access(join(ADDON, source));
    expect(dockerfile).toMatch(/^ARG BUILD_FROM=/m);
  });

  it('asks only its options, each labelled in the store, and refuses to start until the required ones are filled in', async () => {
    const schema = manifest.schema as Schema;
    const options = manifest.options as Record<string, unknown>;
    expect(Object.keys(options).sort()).toEqual(Object.keys(schema).sort());
    const translations = parse(await readFile(join(ADDON, 'translations/en.yaml'), 'utf8')) as { configuration: Record<string, { name: string; description: string }> };
    expect(Object.keys(translations.configuration).sort()).toEqual(Object.keys(schema).sort());
    // As installed: the defaults alone are refused (no edge URL yet), which the store shows as the questions to answer.
    expect(validateOptions(schema, options)).toMatch(/edge_url/);
    const answered = { ...options, edge_url: 'https://lanyard.example.workers.dev', relay_token: 'relay-token-0123456789', git_remote: 'https://github.com/octo-home/ha-config.git' };
    expect(validateOptions(schema, answered)).toBeNull();
    expect(validateOptions(schema, { ...answered, target: 'Not A Target' })).toMatch(/target/);
  });

  it('run.sh writes, from the options the store passes, a relay.yaml the bundled relay reads', async () => {
    const data = join(dir, 'data');
    const backup = join(dir, 'backup');
    const config = join(dir, 'homeassistant');
    await run('mkdir', ['-p', data, backup, config]);
    // The Supervisor writes the validated options, the optional password left out when empty.
    const options: Record<string, unknown> = { ...(manifest.options as Record<string, unknown>), edge_url: 'http://127.0.0.1:9', relay_token: 'relay-token-0123456789', git_remote: 'https://github.com/octo-home/ha-config.git' };
    delete options.git_token;
    await writeFile(join(data, 'options.json'), JSON.stringify(options));
    // The real bundle, with `run` swapped for a stop: doctor reads the config and says what it finds.
    const relay = join(dir, 'relay-doctor-only.mjs');
    await writeFile(relay, `import { spawnSync } from 'node:child_process';\nif (process.argv[2] === 'run') process.exit(0);\nconst r = spawnSync(process.execPath, [${JSON.stringify(join(ADDON, 'relay.mjs'))}, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, SUPERVISOR_TOKEN: 'supervisor-token' } });\nprocess.exit(r.status ?? 1);\n`);
    const { stdout } = await run('sh', [join(ADDON, 'run.sh')], { env: { PATH: process.env.PATH, LANYARD_DATA: data, LANYARD_BACKUP: backup, LANYARD_HA_CONFIG: config, LANYARD_RELAY: relay } });
    expect(stdout).toMatch(/ok\s+config\s+.*relay\.yaml is valid \(target home, local transport\)/);
    // The edge at 127.0.0.1:9 does not answer: doctor says so, and the add-on starts anyway (the relay retries).
    expect(stdout).toMatch(/edge/);
  }, 60_000);
});
