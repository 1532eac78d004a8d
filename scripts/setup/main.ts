// `npm run setup`: from a fresh clone to a first deploy. Asks (or takes as flags) what it needs,
// then sets up the edge, the GitHub webhook and the relay, and prints the status page address and
// the admin token (once). Safe to run again: what exists is shown and kept, and only what changed
// is written; `--update` applies new migrations, redeploys and restarts the relay. `--dry-run`
// prints every command and file instead. See docs/production.md for what it cannot do for you.
import { intro, outro } from '@clack/prompts';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SetupActions } from './actions.ts';
import { setUpEdge } from './edge-step.ts';
import { eventsFor, setUpWebhook } from './github-step.ts';
import { stopService } from './local-services.ts';
import { answerQuestions, parseSetupArgs, usage, type Answers } from './questions.ts';
import { setUpRelay } from './relay-step.ts';
import { loadOrCreateSecrets } from './secrets-store.ts';
import { SETUP_QUESTIONS } from './setup-questions.ts';
import { REPOSITORY_ROOT } from './wrangler-config.ts';

/** Answers that are not secrets, kept for the next run's defaults. */
const REMEMBERED_SECRETS = new Set(['github-token', 'git-token', 'ha-token']);

async function rememberedAnswers(stateDir: string): Promise<Answers> {
  const text = await readFile(join(stateDir, 'answers.json'), 'utf8').catch(() => null);
  const answers: Answers = text ? (JSON.parse(text) as Answers) : {};
  const relayDir = answers['relay-dir'] ? resolve(REPOSITORY_ROOT, answers['relay-dir']) : null;
  if (relayDir) {
    for (const [flag, file] of [['ha-token', 'ha-token'], ['git-token', 'github-token']] as const) {
      const value = (await readFile(join(relayDir, file), 'utf8').catch(() => null))?.trim();
      if (value) answers[flag] = value;
    }
  }
  return answers;
}

export async function runSetup(argv: string[], print: (line: string) => void = (l) => console.log(l)): Promise<number> {
  const { flags, given } = parseSetupArgs(argv, SETUP_QUESTIONS);
  if (flags.help) {
    print(usage(SETUP_QUESTIONS));
    return 0;
  }
  const stateDir = resolve(REPOSITORY_ROOT, given['state-dir'] ?? '.lanyard');
  const actions = new SetupActions(flags['dry-run'], print);
  if (flags.stop) {
    await stopService(actions, stateDir, 'relay');
    await stopService(actions, stateDir, 'edge');
    return 0;
  }
  const interactive = !flags.yes && !flags.update && process.stdin.isTTY === true && process.stdout.isTTY === true;
  if (interactive) intro('Lanyard setup');
  const remembered = await rememberedAnswers(stateDir);
  const questions = SETUP_QUESTIONS.map((q) => (remembered[q.flag] !== undefined ? { ...q, fallback: () => remembered[q.flag] } : q));
  const answers = await answerQuestions(questions, { ...given, local: flags.local ? 'yes' : 'no' }, interactive);
  const saved = Object.fromEntries(Object.entries(answers).filter(([k, v]) => !REMEMBERED_SECRETS.has(k) && k !== 'local' && v !== undefined && k !== 'host-key-fingerprint'));
  await actions.writeFile(join(stateDir, 'answers.json'), `${JSON.stringify(saved, null, 2)}\n`, 0o600);

  const target = answers.target!;
  const relayTokenSecret = `RELAY_TOKEN_${target.toUpperCase().replace(/-/g, '_')}`;
  const publicUrl = answers['public-url']!;
  const { secrets, newAdminToken } = await loadOrCreateSecrets(actions, stateDir, flags['new-admin-token']);

  await setUpEdge(actions, {
    local: flags.local,
    stateDir,
    configPath: resolve(REPOSITORY_ROOT, answers['wrangler-config']!),
    publicUrl,
    port: Number(answers.port ?? 8787),
    target: { name: target, fields: { repo: answers.repo, branch: answers.branch, trigger: { type: 'push' }, relayTokenSecret } },
    relayTokenSecret,
    secrets,
    update: flags.update,
  });
  await setUpWebhook(actions, {
    apiUrl: answers['github-api-url']!.replace(/\/$/, ''),
    token: answers['github-token'] || undefined,
    repo: answers.repo!,
    publicUrl,
    webhookSecret: secrets.webhookSecret,
    events: eventsFor('push'),
    adminToken: newAdminToken,
    recordPath: join(stateDir, 'webhook.json'),
  });
  const relay = await setUpRelay(actions, {
    local: flags.local,
    interactive,
    stateDir,
    relayDir: resolve(REPOSITORY_ROOT, answers['relay-dir']!),
    edgeUrl: publicUrl,
    target,
    relayToken: secrets.relayToken,
    gitRemote: answers['git-remote']!,
    gitBranch: answers.branch!,
    gitToken: answers['git-token'] || undefined,
    sshHost: answers['ssh-host']!,
    sshPort: Number(answers['ssh-port']),
    sshUser: answers['ssh-user']!,
    hostKeyFingerprint: answers['host-key-fingerprint'] || undefined,
    configRoot: answers['config-root']!,
    backupDir: answers['backup-dir']!,
    haUrl: answers['ha-url']!,
    haToken: answers['ha-token']!,
    installService: answers['install-service'] === 'yes',
    authorizeTimeoutSeconds: Number(answers['authorize-timeout']),
    update: flags.update,
  });

  print('\nDone.');
  print(`  status page: ${publicUrl}/`);
  if (actions.dryRun) print('  admin token: made on the real run, and shown once then');
  else if (newAdminToken) print(`  admin token: ${newAdminToken}\n               shown this once: keep it in your password manager (the edge keeps only its hash)`);
  else print('  admin token: the one printed when it was made (--new-admin-token makes another)');
  print(`  next: push a change to ${answers.repo} (${answers.branch}) and watch it deploy on the status page`);
  if (!relay.doctorOk) print(`  relay doctor found problems (above): fix them, then run it again with npm run relay -- doctor --config ${relay.configPath}`);
  print(`SETUP CHANGES: ${actions.changes.length}${actions.changes.length ? ` (${actions.changes.map((c) => c.what.split(' ').slice(0, 3).join(' ')).join('; ')})` : ''}`);
  if (interactive) outro(relay.doctorOk ? 'Ready for your first push.' : 'Almost: see relay doctor above.');
  return relay.doctorOk ? 0 : 1;
}

if (process.argv[1]?.endsWith('setup/main.ts')) {
  runSetup(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`setup: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
