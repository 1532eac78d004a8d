// The relay's configuration: one YAML (or JSON) file, validated with zod at start-up, with a few
// environment overrides for secrets. A missing or wrong field stops start-up with a message that
// names it. Defaults fit a stock Home Assistant: config at /config, backups at /backup, API on
// http://192.168.1.155:8123.
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { describeZodError } from '../shared/protocol.ts';
import { supervisorFallback } from './home-assistant/endpoint.ts';
import { UPLOAD_COMPRESSIONS } from './pipeline/upload-compression.ts';
import { DEFAULT_MERGE_FILES, MERGE_FILE_NAME } from './pipeline/merge-candidates.ts';

const SecretFields = {
  token: z.string().min(1).optional().describe('The secret itself. Prefer `tokenFile`.'),
  tokenFile: z.string().min(1).optional().describe('A file holding the secret (first line, trimmed).'),
};

export const EdgeConfig = z
  .object({
    url: z.url().describe('Base URL of the Lanyard Worker, e.g. `https://lanyard.example.workers.dev`.'),
    target: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/).describe('The target this relay serves, as named in the Worker\'s TARGETS.'),
    ...SecretFields,
    heartbeatSeconds: z
      .number()
      .min(1)
      .max(90)
      .default(30)
      .describe('Seconds between heartbeats. Cloudflare drops a WebSocket idle for about 100 s, so at most 90.'),
    maxBackoffSeconds: z.number().min(1).max(3600).default(60).describe('Longest wait between reconnection attempts.'),
    replacedHoldOffSeconds: z
      .number()
      .min(1)
      .max(86400)
      .default(300)
      .describe('After another relay with the same token took over the target, wait this long before connecting again.'),
  })
  .strict();

/**
 * Where Home Assistant sees its config folder inside its own container (Home Assistant OS,
 * Supervised, Container): public configurations write absolute links against it.
 */
export const DEFAULT_HOME_ASSISTANT_CONFIG_PATHS: readonly string[] = ['/config'];

/** Where a stock Home Assistant is reached on the LAN when the config does not say: its SSH and its API. */
export const DEFAULT_HOME_ASSISTANT_HOST = '192.168.1.155';

export const SshConfig = z
  .object({
    host: z.string().min(1).default(DEFAULT_HOME_ASSISTANT_HOST).describe('Home Assistant host.'),
    port: z.number().int().min(1).max(65535).default(22),
    username: z.string().min(1).describe('The user the relay logs in as (a dedicated one; see the production guide).'),
    privateKeyPath: z.string().min(1).optional().describe('Private key file. Or use `agent`.'),
    passphrase: z.string().optional(),
    agent: z.string().optional().describe('ssh-agent socket path (default: $SSH_AUTH_SOCK when no key file is given).'),
    hostKeyFingerprint: z
      .string()
      .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'SHA256:<43 base64 characters>, as `ssh-keyscan HOST | ssh-keygen -lf -` prints')
      .describe('The pinned host key. An unknown or changed key refuses to connect.'),
    readyTimeoutSeconds: z.number().min(1).max(120).default(20),
  })
  .strict();

export const HostConfig = z
  .object({
    transport: z.enum(['local', 'ssh']).default('ssh').describe('`ssh` to reach the HA host, `local` when the relay runs on it.'),
    ssh: SshConfig.optional().describe('Required when transport is ssh.'),
    configRoot: z.string().default('/config').describe('Home Assistant\'s config folder on the host.'),
    homeAssistantConfigPaths: z
      .array(
        z
          .string()
          .refine((path) => isAbsolute(path), 'must be an absolute path, such as /config')
          .refine((path) => path.split('/').some((part) => part !== '' && part !== '.'), 'cannot be "/": every absolute link would then count as a link into the config folder')
          .refine((path) => !path.split('/').includes('..'), 'cannot contain ".."'),
      )
      .default([...DEFAULT_HOME_ASSISTANT_CONFIG_PATHS])
      .describe(
        'Where Home Assistant (and its add-ons) see `configRoot` from inside their containers. A symlink whose target starts with one of these paths (`/config/custom_components/x`) is checked as a link into the config folder and deployed with its text unchanged; it works where the path exists, inside those containers, not on the host itself. ' +
          '`/config` suits Home Assistant OS, Supervised and Container installs; the add-on sets `/config` and `/homeassistant` (where add-ons see the folder since Supervisor 2023.11). ' +
          'On a Core install (Home Assistant in a Python venv, no container) set `[]`: Home Assistant reads links on the host, where `/config` is not its folder; commit relative links instead. `configRoot` itself always counts.',
      ),
    backupDir: z.string().default('/backup').describe('Where backups are written on the host.'),
  })
  .strict()
  .superRefine((host, ctx) => {
    if (host.transport === 'ssh' && !host.ssh) ctx.addIssue({ code: 'custom', path: ['ssh'], message: 'required when transport is ssh' });
    for (const key of ['configRoot', 'backupDir'] as const) {
      if (!isAbsolute(host[key])) ctx.addIssue({ code: 'custom', path: [key], message: 'must be an absolute path' });
    }
  });

/**
 * The config folder as absolute link targets may name it: where the relay reaches it on the host,
 * then where Home Assistant and its add-ons see it. What link-resolution.ts reads absolute links against.
 */
export function configRootsOf(host: Pick<z.infer<typeof HostConfig>, 'configRoot' | 'homeAssistantConfigPaths'>): string[] {
  return [host.configRoot, ...host.homeAssistantConfigPaths];
}

export const HomeAssistantConfig = z
  .object({
    url: z.string().default(`http://${DEFAULT_HOME_ASSISTANT_HOST}:8123`).describe('HA base URL; in an add-on, `http://supervisor/core`.'),
    ...SecretFields,
    verifyTimeoutSeconds: z.number().min(5).max(3600).default(600).describe('How long HA may take to come back after a restart.'),
    requestTimeoutSeconds: z.number().min(1).max(600).default(30),
    checkConfigTimeoutSeconds: z
      .number()
      .min(1)
      .max(3600)
      .default(120)
      .describe('How long Home Assistant\'s config check may take before the deploy is rolled back (a full check is slow on a Pi).'),
    requiredEntities: z.array(z.string().regex(/^[a-z_]+\.[a-z0-9_]+$/)).default([]).describe('Entities that must exist and not be unavailable after a deploy.'),
    notify: z.boolean().default(true).describe('Post a persistent notification in HA on failure or rollback.'),
    sensor: z.boolean().default(true).describe('Publish `sensor.lanyard_<target>` with the deployment state.'),
    backup: z
      .object({
        enabled: z.boolean().default(false).describe('Before a deploy that restarts Home Assistant, ask it for a partial backup of its configuration (Supervisor `/backups/new/partial` on HA OS and Supervised), named after the deployment, and wait for it.'),
        onFailure: z.enum(['stop', 'continue']).default('stop').describe('When Home Assistant cannot make the backup: `stop` the deploy before anything is written, or `continue` with Lanyard\'s own backup only.'),
        timeoutSeconds: z.number().min(10).max(7200).default(900).describe('How long the backup may take.'),
      })
      .strict()
      .prefault({})
      .describe('Home Assistant\'s own backups, which its Backups page can restore; Lanyard\'s archive stays the rollback source. In the add-on this needs `hassio_api` and the `backup` role (set in its manifest).'),
  })
  .strict();

export const GitConfig = z
  .object({
    remote: z.string().min(1).describe('Git URL of the config repository (https, ssh, or a local path).'),
    branch: z.string().min(1).default('main').describe('The branch deployments must come from.'),
    ...SecretFields,
    deployKeyPath: z.string().optional().describe('Private deploy key, for ssh remotes.'),
    subfolder: z.string().default('').describe('Deploy only this folder of the repository (empty: the whole repository).'),
    tagBranches: z
      .array(z.string().min(1))
      .default([])
      .describe('Release branches a tag\'s commit may be on, besides `branch`: a `refs/tags/…` job whose commit is on none of them is refused before anything is fetched into the host.'),
  })
  .strict();

export const DeployConfig = z
  .object({
    include: z.array(z.string()).default([]).describe('Globs of files to deploy (empty: all).'),
    exclude: z.array(z.string()).default([]).describe('Globs of files never deployed.'),
    protect: z.array(z.string()).default([]).describe('Globs added to the built-in protected paths: never written or deleted.'),
    backupScope: z.enum(['changed', 'full']).default('changed').describe('Back up what the deploy touches, or the whole config minus protected data.'),
    keepBackups: z.number().int().min(1).max(1000).default(10),
    uploadCompression: z
      .enum(UPLOAD_COMPRESSIONS)
      .default('auto')
      .describe(
        'Gzip the upload of changed files or not. `auto` measures the link to the host once per connection and gzips only when the relay compresses at least twice as fast as the link carries (a slow Wi-Fi or VPN); on a wired LAN, loopback or a relay on the host itself, gzip costs more than it saves.',
      ),
    allowDriftOverwrite: z
      .boolean()
      .default(false)
      .describe(
        'Let the edge overwrite files changed on the host since the last deploy: a target\'s `driftPolicy: overwrite` (set at the edge), or an operator\'s `overwrite` for one deployment stopped on drift. Off: the relay runs such a deploy as `stop`, so the edge alone can never overwrite edits made in Home Assistant.',
      ),
    mergeFiles: z
      .array(z.string().regex(MERGE_FILE_NAME, 'a YAML file name in the config folder, such as automations.yaml'))
      .default([...DEFAULT_MERGE_FILES])
      .describe(
        'Files of the config folder that a deploy merges, by automation/scene `id` or script key, when both Home Assistant\'s UI and the commit changed them: a clean merge is deployed (after Home Assistant\'s check), a conflict stops the deploy as drift. Protected paths are never merged. Empty: never merge.',
      ),
  })
  .strict();

// ---- the drift watch (relay/watch/) ----
export const WatchConfig = z
  .object({
    intervalSeconds: z
      .number()
      .min(0)
      .max(86400)
      .refine((seconds) => seconds === 0 || seconds >= 1, 'at least 1 second, or 0 to turn the watch off')
      .default(300)
      .describe(
        'Seconds between two looks of the drift watch at the host (it also looks right after every job). Each look walks the config folder by `stat` and hashes only deployed files whose size, times or inode changed, so an unchanged house costs one listing; protected paths are never read. `0` turns the watch off.',
      ),
  })
  .strict();
// ---- end of the drift watch ----
// ---- capture (issue 17): host edits pushed as a branch for a pull request ----
export const CaptureConfig = z
  .object({
    pushRemote: z
      .string()
      .min(1)
      .optional()
      .describe('Where captures are pushed (default: `git.remote`). Only branches under `lanyard/host-edits/` are ever pushed.'),
    pushKeyPath: z
      .string()
      .min(1)
      .optional()
      .describe('A deploy key with write access, for ssh push remotes; separate from the read-only `git.deployKeyPath`. Keep it to the branch prefix with a ruleset (docs/drift.md).'),
  })
  .strict();

// ---- alerts (issue 18): the edge's alerts passed to Home Assistant notify services ----
export const AlertsConfig = z
  .object({
    notify: z
      .array(z.string().regex(/^notify\.[a-z0-9_]+$/, 'a notify service, e.g. notify.mobile_app_pixel_8'))
      .max(10)
      .default([])
      .describe('Home Assistant `notify.*` services the edge\'s alerts go to (e.g. `notify.mobile_app_<phone>`, with a tap that opens the status page). Only these: the edge cannot name another service. Empty: no alerts in the house.'),
  })
  .strict();

export const RelayConfig = z
  .object({
    relayId: z.string().min(1).max(128).default(hostname()).describe('Names this relay in the edge\'s audit trail.'),
    stateDir: z.string().default('/var/lib/lanyard').describe('The relay\'s own disk: journal, git cache, manifests.'),
    edge: EdgeConfig.describe('Where the relay connects: the Worker, the target, the relay token.'),
    git: GitConfig.describe('Where the relay fetches commits from, itself.'),
    host: HostConfig.prefault({}).describe('How the relay reaches the Home Assistant host.'),
    homeAssistant: HomeAssistantConfig.prefault({}).describe('Home Assistant\'s REST API: check, reload, restart, verify, sensor, notifications.'),
    deploy: DeployConfig.prefault({}).describe('What is deployed and how it is backed up.'),
    watch: WatchConfig.prefault({}).describe('The drift watch: how often the relay looks for files changed on the host between deploys.'),
    alerts: AlertsConfig.prefault({}).describe('Where the edge\'s alerts (failures, rollbacks, drift, freezes) reach you in the house.'),
    capture: CaptureConfig.optional().describe('Capture host edits as a branch and a pull request. Absent: the relay does not capture (and does not say it can).'),
  })
  .strict();
export type RelayConfig = z.infer<typeof RelayConfig>;

export class ConfigError extends Error {
  readonly code = 'bad_config';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

async function readSecret(where: string, inline: string | undefined, file: string | undefined, base: string): Promise<string | undefined> {
  if (inline) return inline;
  if (!file) return undefined;
  try {
    const text = await readFile(resolve(base, file), 'utf8');
    const value = text.split('\n', 1)[0]!.trim();
    if (!value) throw new ConfigError(`${where}.tokenFile: ${file} is empty`);
    return value;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${where}.tokenFile: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

export interface ResolvedSecrets {
  edgeToken: string;
  homeAssistantToken: string;
  gitToken: string | undefined;
}

export interface LoadedConfig {
  config: RelayConfig;
  secrets: ResolvedSecrets;
  path: string;
}

/**
 * Reads, validates and resolves a relay config file. Environment overrides: LANYARD_EDGE_TOKEN,
 * LANYARD_HA_TOKEN, LANYARD_GIT_TOKEN, and SUPERVISOR_TOKEN (inside a Home Assistant add-on, which
 * also switches the API to http://supervisor/core unless a URL is configured).
 */
export async function loadRelayConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  return resolveRelayConfig(raw, path, env);
}

export async function resolveRelayConfig(raw: unknown, path: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const parsed = RelayConfig.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(`${path}: ${describeZodError(parsed.error)}`);
  const config = parsed.data;
  const base = resolve(path, '..');
  const edgeToken = env.LANYARD_EDGE_TOKEN ?? (await readSecret('edge', config.edge.token, config.edge.tokenFile, base));
  if (!edgeToken) throw new ConfigError(`${path}: edge.token: give edge.token or edge.tokenFile (or set LANYARD_EDGE_TOKEN)`);
  let homeAssistantToken = env.LANYARD_HA_TOKEN ?? (await readSecret('homeAssistant', config.homeAssistant.token, config.homeAssistant.tokenFile, base));
  // The URL as written, not with its default filled in: an add-on that wrote none uses the Supervisor's proxy.
  const supervisor = homeAssistantToken ? null : supervisorFallback((raw as { homeAssistant?: { url?: string } })?.homeAssistant?.url || undefined, env);
  if (supervisor) {
    homeAssistantToken = supervisor.token;
    config.homeAssistant.url = supervisor.url;
  }
  if (!homeAssistantToken) {
    throw new ConfigError(`${path}: homeAssistant.token: give homeAssistant.token or homeAssistant.tokenFile (a long-lived access token), or set LANYARD_HA_TOKEN`);
  }
  const gitToken = env.LANYARD_GIT_TOKEN ?? (await readSecret('git', config.git.token, config.git.tokenFile, base));
  config.stateDir = resolve(base, config.stateDir);
  if (config.host.ssh?.privateKeyPath) config.host.ssh.privateKeyPath = resolve(base, config.host.ssh.privateKeyPath);
  if (config.git.deployKeyPath) config.git.deployKeyPath = resolve(base, config.git.deployKeyPath);
  if (config.capture?.pushKeyPath) config.capture.pushKeyPath = resolve(base, config.capture.pushKeyPath);
  return { config, secrets: { edgeToken, homeAssistantToken, gitToken }, path };
}
