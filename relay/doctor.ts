// `relay doctor`: checks everything the relay needs, one line each with a verdict and, when
// something is wrong, the fix. Touches nothing: the edge check does not open a relay connection
// (which would replace a running relay), and the path checks only test for write permission.
import { ConfigError, loadRelayConfig, type LoadedConfig } from './config.ts';
import { HomeAssistantClient } from './home-assistant/client.ts';
import { HomeAssistantError } from './home-assistant/errors.ts';
import { freeBytes } from './pipeline/host-files.ts';
import { hashLiveTree } from './pipeline/live-tree.ts';
import { gitSourceFor } from './pipeline/git-source.ts';
import { openTargetHost } from './transport/open-target-host.ts';
import { shellQuote, type TargetHost } from './transport/target-host.ts';

export interface DoctorLine {
  ok: boolean;
  check: string;
  detail: string;
  fix?: string;
}

type Check = () => Promise<Omit<DoctorLine, 'check'>>;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function diagnose(configPath: string, env: NodeJS.ProcessEnv = process.env): Promise<DoctorLine[]> {
  let loaded: LoadedConfig;
  try {
    loaded = await loadRelayConfig(configPath, env);
  } catch (error) {
    const fix = error instanceof ConfigError ? 'correct the field named above (every field is in docs/configuration.md)' : undefined;
    return [{ ok: false, check: 'config', detail: message(error), ...(fix ? { fix } : {}) }];
  }
  const { config, secrets } = loaded;
  const lines: DoctorLine[] = [{ ok: true, check: 'config', detail: `${configPath} is valid (target ${config.edge.target}, ${config.host.transport} transport)` }];
  const run = async (check: string, body: Check) => {
    try {
      lines.push({ check, ...(await body()) });
    } catch (error) {
      lines.push({ check, ok: false, detail: message(error) });
    }
  };

  await run('edge', async () => {
    // Without an Upgrade header the edge checks the token and answers 426 instead of connecting.
    const url = new URL('/relay/connect', config.edge.url);
    url.searchParams.set('target', config.edge.target);
    let response: Response;
    try {
      response = await fetch(url, { headers: { Authorization: `Bearer ${secrets.edgeToken}` }, signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      return { ok: false, detail: `${config.edge.url} is not reachable: ${message(error)}`, fix: 'check edge.url and this machine\'s internet access' };
    }
    if (response.status === 426) return { ok: true, detail: `${config.edge.url} reachable; relay token accepted for ${config.edge.target}` };
    if (response.status === 401) return { ok: false, detail: 'the edge refused the relay token', fix: `set edge.token to the token stored in the Worker secret named by target ${config.edge.target}'s relayTokenSecret` };
    if (response.status === 404) return { ok: false, detail: `the edge has no target named ${config.edge.target}`, fix: 'check edge.target against the Worker\'s TARGETS' };
    return { ok: false, detail: `the edge answered HTTP ${response.status}: ${(await response.text()).slice(0, 200)}` };
  });

  let host: TargetHost | null = null;
  await run(config.host.transport === 'ssh' ? 'ssh' : 'host', async () => {
    host = await openTargetHost(loaded);
    const result = await host.run('echo ok');
    if (result.stdout.toString('utf8').trim() !== 'ok') return { ok: false, detail: `${host.description} did not run a command: ${result.stderr}` };
    return { ok: true, detail: config.host.transport === 'ssh' ? `${host.description} reachable, host key matches the pinned fingerprint` : 'running on the Home Assistant host' };
  });
  if (lines.at(-1)?.ok === false && config.host.transport === 'ssh') {
    const last = lines.at(-1)!;
    if (/host key/i.test(last.detail)) last.fix = `if the host was reinstalled, pin the new key: ssh-keyscan -p ${config.host.ssh!.port} ${config.host.ssh!.host} | ssh-keygen -lf -`;
    else last.fix ??= 'check host.ssh (host, port, username, key) and that the relay\'s public key is in the user\'s authorized_keys';
  }

  const target = host as TargetHost | null;
  for (const [check, folder] of [['config folder', config.host.configRoot], ['backup folder', config.host.backupDir]] as const) {
    await run(check, async () => {
      if (!target) return { ok: false, detail: 'not checked: the host is not reachable' };
      const probe = await target.run(`test -d ${shellQuote(folder)} || exit 3; test -w ${shellQuote(folder)} || exit 4`);
      if (probe.code === 3) return { ok: false, detail: `${folder} does not exist on the host`, fix: `create it, or set host.${check === 'config folder' ? 'configRoot' : 'backupDir'}` };
      if (probe.code === 4) return { ok: false, detail: `${folder} is not writable by the relay's user`, fix: `give the relay's user write access: chown or setfacl on ${folder}` };
      return { ok: true, detail: `${folder} is writable` };
    });
  }

  await run('disk', async () => {
    if (!target) return { ok: false, detail: 'not checked: the host is not reachable' };
    const live = await hashLiveTree(target, config.host.configRoot);
    const needed = live.files.reduce((sum, f) => sum + f.size, 0);
    const free = await freeBytes(target, config.host.backupDir);
    if (free === null) return { ok: false, detail: `could not read free space of ${config.host.backupDir}` };
    const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
    if (free < needed * 2) return { ok: false, detail: `${mb(free)} free in ${config.host.backupDir}, a full backup needs about ${mb(needed)}`, fix: 'free some space or lower deploy.keepBackups' };
    return { ok: true, detail: `${mb(free)} free for backups (a full backup is about ${mb(needed)})` };
  });
  await (target as TargetHost | null)?.close();

  await run('home assistant', async () => {
    const ha = new HomeAssistantClient({ baseUrl: config.homeAssistant.url, token: secrets.homeAssistantToken, requestTimeoutMs: config.homeAssistant.requestTimeoutSeconds * 1000 });
    try {
      const info = await ha.config();
      const check = await ha.checkConfig();
      return { ok: true, detail: `${config.homeAssistant.url} answers (Home Assistant ${info.version}, ${info.state}); check_config allowed${check.valid ? '' : ' (it says the live config is invalid right now)'}` };
    } catch (error) {
      if (error instanceof HomeAssistantError && error.code === 'unauthorized') {
        return { ok: false, detail: 'Home Assistant refused the token', fix: 'create a long-lived access token for an administrator (Profile → Security) and set homeAssistant.token' };
      }
      return { ok: false, detail: message(error), fix: 'check homeAssistant.url' };
    }
  });

  await run('git', async () => {
    const head = await gitSourceFor(loaded).resolveBranchHead();
    return { ok: true, detail: `${config.git.remote} reachable; ${config.git.branch} is at ${head.slice(0, 7)}` };
  });
  const gitLine = lines.at(-1)!;
  if (!gitLine.ok) gitLine.fix ??= 'check git.remote, git.branch and the token or deploy key';

  return lines;
}

export function formatDoctor(lines: DoctorLine[]): string {
  const width = Math.max(...lines.map((l) => l.check.length));
  return lines
    .map((l) => `${l.ok ? 'ok  ' : 'FAIL'}  ${l.check.padEnd(width)}  ${l.detail}${l.fix ? `\n      ${' '.repeat(width)}  fix: ${l.fix}` : ''}`)
    .join('\n');
}

export async function runDoctor(configPath: string): Promise<number> {
  const lines = await diagnose(configPath);
  const ready = lines.every((l) => l.ok);
  process.stdout.write(`${formatDoctor(lines)}\n${ready ? 'ready: the relay can deploy' : 'not ready: fix the lines marked FAIL'}\n`);
  return ready ? 0 : 1;
}
