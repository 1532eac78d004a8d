// The relay: its SSH key pair, the Home Assistant host's key fetched with ssh-keyscan and pinned
// only once the owner confirmed its fingerprint (or passed it with --host-key-fingerprint), the
// token files, relay.yaml, the `authorized_keys` line (with `restrict`) for the host, a wait until
// the host accepts the key, `relay doctor`, and the service: started here with --local, or the
// systemd commands (run with --install-service yes).
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { confirm, isCancel } from '@clack/prompts';
import { stringify } from 'yaml';
import type { SetupActions } from './actions.ts';
import { ensureService } from './local-services.ts';
import { REPOSITORY_ROOT } from './wrangler-config.ts';

const TSX = join(REPOSITORY_ROOT, 'node_modules/tsx/dist/cli.mjs');
const RELAY_CLI = join(REPOSITORY_ROOT, 'relay/cli.ts');

export interface RelayPlan {
  local: boolean;
  interactive: boolean;
  stateDir: string;
  relayDir: string;
  edgeUrl: string;
  target: string;
  relayToken: string;
  gitRemote: string;
  gitBranch: string;
  gitToken: string | undefined;
  sshHost: string;
  sshPort: number;
  sshUser: string;
  hostKeyFingerprint: string | undefined;
  configRoot: string;
  backupDir: string;
  haUrl: string;
  haToken: string;
  installService: boolean;
  authorizeTimeoutSeconds: number;
  update: boolean;
}

export interface RelayOutcome {
  configPath: string;
  doctorOk: boolean;
  authorizedKeysLine: string;
}

/** The host's ed25519 key as ssh-keyscan sees it, and its fingerprint. */
async function scanHostKey(actions: SetupActions, plan: RelayPlan): Promise<{ line: string; fingerprint: string }> {
  const scanned = await actions.run('ssh-keyscan', ['-p', String(plan.sshPort), '-t', 'ed25519', plan.sshHost], { readOnly: true, allowFailure: true });
  const line = scanned.stdout.split('\n').find((l) => l.includes(' ssh-ed25519 '));
  // A dry run goes on without the host: it shows what would be pinned, not whether the host is up.
  if (!line && actions.dryRun) return { line: `[${plan.sshHost}]:${plan.sshPort} ssh-ed25519 <the host's key>`, fingerprint: plan.hostKeyFingerprint ?? 'SHA256:<the host key fingerprint>' };
  if (!line) throw new Error(`ssh-keyscan found no ed25519 key at ${plan.sshHost}:${plan.sshPort}: is sshd running there? ${scanned.stderr.trim()}`);
  const printed = await actions.run('ssh-keygen', ['-lf', '-'], { input: `${line}\n`, readOnly: true });
  const fingerprint = /(SHA256:[A-Za-z0-9+/]{43})/.exec(printed.stdout)?.[1];
  if (!fingerprint) throw new Error(`ssh-keygen printed no fingerprint for the scanned key: ${printed.stdout}`);
  return { line, fingerprint };
}

async function pinnedEarlier(configPath: string): Promise<string | null> {
  const text = await readFile(configPath, 'utf8').catch(() => null);
  return text ? (/hostKeyFingerprint: (SHA256:\S+)/.exec(text)?.[1] ?? null) : null;
}

/** The fingerprint to pin: the scanned one, once the owner said it is the host's own. */
async function confirmHostKey(actions: SetupActions, plan: RelayPlan, configPath: string, scanned: string): Promise<string> {
  actions.say(`  ${plan.sshHost}:${plan.sshPort} offers host key ${scanned}`);
  if (actions.dryRun) return scanned;
  if (plan.hostKeyFingerprint) {
    if (plan.hostKeyFingerprint !== scanned) throw new Error(`the host offers ${scanned}, not the ${plan.hostKeyFingerprint} given with --host-key-fingerprint: something between you and the host answers in its place, or the flag is wrong`);
    return scanned;
  }
  const earlier = await pinnedEarlier(configPath);
  if (earlier === scanned) return scanned;
  if (earlier) throw new Error(`the host's key changed: ${earlier} was pinned, ${scanned} is offered now. If the host was reinstalled, confirm the new one with --host-key-fingerprint ${scanned}`);
  actions.say('  read the same on the host\'s own console (not over the network you are about to trust):\n    ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
  if (!plan.interactive) throw new Error(`pinning a host key needs your confirmation: compare, then pass --host-key-fingerprint ${scanned}`);
  const answer = await confirm({ message: `Does the host's console print ${scanned}?`, initialValue: false });
  if (isCancel(answer) || !answer) throw new Error('host key not confirmed: nothing pinned; run setup again once you have compared it');
  return scanned;
}

function relayYaml(plan: RelayPlan, fingerprint: string): string {
  const config = {
    relayId: `${hostname()}-${plan.target}`,
    stateDir: join(plan.relayDir, 'state'),
    edge: { url: plan.edgeUrl, target: plan.target, tokenFile: join(plan.relayDir, 'relay-token') },
    git: { remote: plan.gitRemote, branch: plan.gitBranch, ...(plan.gitToken ? { tokenFile: join(plan.relayDir, 'github-token') } : {}) },
    host: {
      transport: 'ssh',
      configRoot: plan.configRoot,
      backupDir: plan.backupDir,
      ssh: { host: plan.sshHost, port: plan.sshPort, username: plan.sshUser, privateKeyPath: join(plan.relayDir, 'id_ed25519'), hostKeyFingerprint: fingerprint },
    },
    homeAssistant: { url: plan.haUrl, tokenFile: join(plan.relayDir, 'ha-token') },
  };
  return `# Written by npm run setup; every field: docs/configuration.md. Check it with: npm run relay -- doctor --config ${join(plan.relayDir, 'relay.yaml')}\n${stringify(config)}`;
}

/** Waits until the host lets the relay's key in (the owner adds the printed line meanwhile). */
async function waitForAuthorization(actions: SetupActions, plan: RelayPlan, knownHosts: string): Promise<boolean> {
  if (actions.dryRun) return true;
  const probe = () =>
    actions.run(
      'ssh',
      ['-i', join(plan.relayDir, 'id_ed25519'), '-p', String(plan.sshPort), '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=5', `${plan.sshUser}@${plan.sshHost}`, 'true'],
      { readOnly: true, allowFailure: true },
    );
  if ((await probe()).code === 0) return true;
  actions.say(`  waiting for ${plan.sshUser}@${plan.sshHost} to accept the key (add the line above on the host; up to ${plan.authorizeTimeoutSeconds} s)…`);
  const deadline = Date.now() + plan.authorizeTimeoutSeconds * 1000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    if ((await probe()).code === 0) {
      actions.say('  the host accepts the relay\'s key');
      return true;
    }
  }
  return false;
}

function systemdCommands(relayDir: string): string[] {
  return [
    'npm run build:relay',
    'sudo install -D -m 0644 dist/relay.mjs /opt/lanyard/relay.mjs',
    'id lanyard >/dev/null 2>&1 || sudo useradd --system --home /var/lib/lanyard lanyard',
    `sudo install -d -o lanyard -m 0700 /etc/lanyard && sudo cp -a ${relayDir}/. /etc/lanyard/ && sudo chown -R lanyard /etc/lanyard`,
    // The unit may write only /var/lib/lanyard (ProtectSystem=strict): the relay's state goes there.
    `sudo sed -i -e 's#^stateDir: .*#stateDir: /var/lib/lanyard#' -e 's#${relayDir}#/etc/lanyard#g' /etc/lanyard/relay.yaml`,
    'sudo install -m 0644 deploy/systemd/lanyard-relay.service /etc/systemd/system/',
    'sudo systemctl daemon-reload && sudo systemctl enable --now lanyard-relay && sudo systemctl restart lanyard-relay',
  ];
}

export async function setUpRelay(actions: SetupActions, plan: RelayPlan): Promise<RelayOutcome> {
  actions.say('\nRelay');
  const configPath = join(plan.relayDir, 'relay.yaml');
  const keyPath = join(plan.relayDir, 'id_ed25519');
  const existingKey = await readFile(`${keyPath}.pub`, 'utf8').catch(() => null);
  if (existingKey) actions.say(`  the relay's SSH key exists: ${keyPath}`);
  else {
    if (!actions.dryRun) await mkdir(plan.relayDir, { recursive: true, mode: 0o700 });
    await actions.run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `lanyard-relay@${hostname()}`, '-f', keyPath]);
  }
  const publicKey = (await readFile(`${keyPath}.pub`, 'utf8').catch(() => 'ssh-ed25519 <the key ssh-keygen makes>')).trim();

  const scanned = await scanHostKey(actions, plan);
  const fingerprint = await confirmHostKey(actions, plan, configPath, scanned.fingerprint);
  const knownHosts = join(plan.relayDir, 'known_hosts');
  await actions.writeFile(knownHosts, `${scanned.line}\n`, 0o600);

  await actions.writeFile(join(plan.relayDir, 'relay-token'), `${plan.relayToken}\n`, 0o600);
  await actions.writeFile(join(plan.relayDir, 'ha-token'), `${plan.haToken}\n`, 0o600);
  if (plan.gitToken) await actions.writeFile(join(plan.relayDir, 'github-token'), `${plan.gitToken}\n`, 0o600);
  await actions.writeFile(configPath, relayYaml(plan, fingerprint), 0o600);

  const authorizedKeysLine = `restrict ${publicKey}`;
  actions.say(`  on the host, as ${plan.sshUser}, the relay's key goes into ~/.ssh/authorized_keys (restrict: no tty, no forwarding):\n    ${authorizedKeysLine}`);
  actions.say('  Home Assistant token: your profile → Security → Long-lived access tokens → Create (an administrator\'s); --ha-token takes it');
  const authorized = await waitForAuthorization(actions, plan, knownHosts);
  if (!authorized) actions.say(`  the host did not accept the key within ${plan.authorizeTimeoutSeconds} s: doctor will say what is missing`);

  const runDoctor = () => actions.run(process.execPath, [TSX, RELAY_CLI, 'doctor', '--config', configPath], { readOnly: !actions.dryRun, allowFailure: true, cwd: REPOSITORY_ROOT });
  let doctor = await runDoctor();
  if (!actions.dryRun) actions.say(doctor.stdout.replace(/^/gm, '    ').trimEnd());
  // A Worker just deployed (or a wrangler dev just started) can be slow on its first relay request.
  if (!actions.dryRun && doctor.code !== 0 && /FAIL\s+edge\s.*(timeout|aborted)/i.test(doctor.stdout)) {
    actions.say('  the edge was slow to answer its first relay request; asking doctor once more');
    doctor = await runDoctor();
    actions.say(doctor.stdout.replace(/^/gm, '    ').trimEnd());
  }
  const doctorOk = actions.dryRun || doctor.code === 0;

  if (plan.local) {
    const hash = createHash('sha256');
    for (const file of ['relay.yaml', 'relay-token', 'ha-token', 'github-token', 'id_ed25519']) hash.update(await readFile(join(plan.relayDir, file)).catch(() => Buffer.alloc(0)));
    await ensureService(actions, plan.stateDir, 'relay', hash.digest('hex'), plan.update, () =>
      actions.spawnDetached(process.execPath, [TSX, RELAY_CLI, 'run', '--config', configPath], join(plan.stateDir, 'relay.log'), { cwd: REPOSITORY_ROOT }),
    );
  } else if (plan.installService) {
    for (const command of systemdCommands(plan.relayDir)) await actions.run('sh', ['-c', command], { cwd: REPOSITORY_ROOT });
  } else {
    actions.say(`  the relay as a systemd service (or --install-service yes to have setup run these):\n${systemdCommands(plan.relayDir).map((c) => `    ${c}`).join('\n')}`);
  }
  return { configPath, doctorOk, authorizedKeysLine };
}
