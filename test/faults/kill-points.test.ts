// Kill points (issue 9): a real relay process deploying over a real sshd is killed with SIGKILL at
// every step boundary and inside the long steps (mid-upload, mid-backup, mid-restore, while Home
// Assistant restarts), then started again with the same config and state. After it recovers, the
// host must be byte-identical (every path, SHA-256 and mode) to the old commit's deploy or the new
// one's, never a mix; the deployment's final state must say which; and the backup the record names
// must still be on the host, intact.
//
// One sshd (behind a throttling TCP proxy), one wrangler dev edge and one house serve every case.
// Each case starts from commit A deployed and pushes another commit; afterwards A is deployed
// again, and the host must be exactly as before the case.
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, createHouse, HOST_ONLY_FILES, snapshotTree, sshTransportOf, startTestEdge, TEST_SECRETS, waitForDeployment, type ApiClient, type House, type TestEdge, type TreeEntry } from '../support/house.ts';
import { waitFor } from '../support/ports.ts';
import { sendPush } from '../support/push.ts';
import { startRelayProcess, type RelayProcess } from '../support/relay-process.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { testJobId } from '../support/wire-ids.ts';
import { JobRunner } from '../../relay/job-runner.ts';
import { Journal, type JournalEntry } from '../../relay/journal.ts';
import type { Logger } from '../../relay/log.ts';
import type { JobMessage, RelayMessage } from '../../shared/protocol.ts';

type Listing = Record<string, TreeEntry>;
type Outcome = 'succeeded' | 'rolled_back' | 'failed';

const FINAL = ['succeeded', 'failed', 'rolled_back'];
/** Big enough that uploading it through the throttled link takes seconds, and archiving it takes a moment. */
const BIG_FILE_BYTES = 3 * 1024 * 1024;

let sshd: Sshd;
let proxy: TcpProxy;
let edge: TestEdge;
let house: House;
let api: ApiClient;
let relay: RelayProcess;
const relays: RelayProcess[] = [];
let restartsBefore = 0;

const shas = { a: '', b: '', restart: '', invalid: '' };
const listings: Record<'a' | 'b' | 'restart', Listing> = { a: {}, b: {}, restart: {} };

function startRelay(): RelayProcess {
  const started = startRelayProcess(house.relayConfigPath);
  relays.push(started);
  return started;
}

/**
 * The host's full listing. The one file whose bytes legitimately differ between two deploys of the
 * same commit is the manifest (it says when the deploy happened): it is compared without
 * `deployedAt`. Everything else, `.lanyard/` included, must be identical.
 */
async function hostListing(): Promise<Listing> {
  const listing = await snapshotTree(house.configRoot);
  const manifest = listing['.lanyard/manifest.json'];
  if (manifest?.type === 'file') {
    const parsed = JSON.parse(await readFile(join(house.configRoot, '.lanyard/manifest.json'), 'utf8')) as Record<string, unknown>;
    manifest.sha256 = createHash('sha256').update(JSON.stringify({ ...parsed, deployedAt: 0 })).digest('hex');
  }
  return listing;
}

/** Paths whose entries differ between two listings: what a "mix" would consist of. */
function differences(a: Listing, b: Listing): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((p) => JSON.stringify(a[p]) !== JSON.stringify(b[p])).sort();
}

async function journalOnDisk(): Promise<{ step: string; backupId: string | null } | null> {
  try {
    const entry = JSON.parse(await readFile(join(house.stateDir, 'journal/current-job.json'), 'utf8')) as { step: string; context: { backupId?: string } };
    return { step: entry.step, backupId: entry.context.backupId ?? null };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function deployCleanly(sha: string, what: string): Promise<Record<string, any>> {
  const id = await sendPush(edge.url, sha, what);
  const { deployment, steps } = await waitForDeployment(api, id, FINAL, 90_000);
  expect(deployment.status, `${what}: ${JSON.stringify(steps)}`).toBe('succeeded');
  return deployment;
}

/** The backup a deployment's record names: its record and archive are on the host, the archive matches its checksum. */
async function expectBackupKept(backupId: string): Promise<void> {
  const names = await readdir(house.backupDir);
  expect(names, `backup ${backupId} was pruned`).toEqual(expect.arrayContaining([`${backupId}.json`, `${backupId}.tar.gz`]));
  const record = JSON.parse(await readFile(join(house.backupDir, `${backupId}.json`), 'utf8')) as { archive: { sha256: string } };
  const archive = await readFile(join(house.backupDir, `${backupId}.tar.gz`));
  expect(createHash('sha256').update(archive).digest('hex'), `archive of ${backupId}`).toBe(record.archive.sha256);
}

/** What recovery promises for a job interrupted at `step` (docs/relay.md, "The journal"). */
function promisedOutcome(step: string | null, finished: boolean): Outcome {
  if (finished) return 'succeeded';
  if (step === null || ['fetch', 'plan', 'drift', 'backup'].includes(step)) return 'succeeded'; // run again from the start
  if (step === 'record') return 'succeeded';
  return 'rolled_back';
}

interface KillPoint {
  name: string;
  /** The commit pushed. */
  commit: () => string;
  /** The listing a finished deploy of that commit gives; null for a commit that must never land. */
  newListing: () => Listing | null;
  /** Steps the journal may name at the moment of the kill (null: the job had finished). */
  journalSteps: (string | null)[];
  before?: () => void;
  /** Resolves at the moment to kill; returns what the test saw there, for the failure message. */
  killWhen: (relay: RelayProcess, id: string) => Promise<string | void>;
  after?: () => void;
  /** Checked right after the kill, before anything recovers: proof of where it landed. */
  atKill?: (killed: RelayProcess, id: string) => Promise<void>;
  /** Checked once the deployment ended. */
  afterRecovery?: (status: Outcome) => void;
}

const logged = (pattern: string) => (r: RelayProcess, id: string) => r.waitForLog(new RegExp(`${id} ${pattern}`), 60_000);
/** The relay logged that a step finished ("<id> <step>: <what it did>"). */
const stepDone = (step: string) => logged(`${step}: (?!started|failed)`);

const KILL_POINTS: KillPoint[] = [
  {
    name: 'as the job arrives, before its first step',
    commit: () => shas.b,
    newListing: () => listings.b,
    journalSteps: [null, 'fetch'],
    killWhen: (r, id) => r.waitForLog(new RegExp(`job ${id}: deploy`), 60_000),
  },
  { name: 'after fetch', commit: () => shas.b, newListing: () => listings.b, journalSteps: ['fetch', 'plan'], killWhen: stepDone('fetch') },
  { name: 'after plan', commit: () => shas.b, newListing: () => listings.b, journalSteps: ['plan', 'drift', 'backup'], killWhen: stepDone('plan') },
  { name: 'after drift', commit: () => shas.b, newListing: () => listings.b, journalSteps: ['drift', 'backup'], killWhen: stepDone('drift') },
  { name: 'after backup', commit: () => shas.b, newListing: () => listings.b, journalSteps: ['backup', 'apply'], killWhen: stepDone('backup') },
  { name: 'after apply', commit: () => shas.b, newListing: () => listings.b, journalSteps: ['apply', 'check'], killWhen: stepDone('apply') },
  { name: 'after check', commit: () => shas.b, newListing: () => listings.b, journalSteps: ['check', 'activate'], killWhen: stepDone('check') },
  { name: 'after activate', commit: () => shas.b, newListing: () => listings.b, journalSteps: ['activate', 'verify'], killWhen: stepDone('activate') },
  { name: 'after verify', commit: () => shas.b, newListing: () => listings.b, journalSteps: ['verify', 'record'], killWhen: stepDone('verify') },
  { name: 'after record', commit: () => shas.b, newListing: () => listings.b, journalSteps: ['record', null], killWhen: stepDone('record') },
  {
    name: 'after the result, before the edge confirmed it',
    commit: () => shas.b,
    newListing: () => listings.b,
    journalSteps: [null],
    killWhen: (r, id) => r.waitForLog(new RegExp(`job ${id}: succeeded`), 60_000),
  },
  {
    name: 'mid-upload of a large file (throttled link, bytes flowing)',
    commit: () => shas.b,
    newListing: () => listings.b,
    journalSteps: ['apply'],
    async killWhen(r, id) {
      await r.waitForLog(new RegExp(`${id} apply: started`), 60_000);
      // The throttle is on from the start: the earlier steps move a few KB, the upload megabytes.
      const at = proxy.bytesUp;
      await waitFor('upload bytes flowing', async () => proxy.bytesUp - at > 256 * 1024, 60_000, 20);
      return `${proxy.bytesUp - at} bytes of the upload sent`;
    },
    before: () => proxy.throttle(400 * 1024),
    after: () => proxy.throttle(null),
    async atKill(_killed, id) {
      // Proof the kill landed inside the upload: part of it is in the staging folder, the new big
      // file is not in place.
      expect(existsSync(join(house.configRoot, '.lanyard/staging', id)), 'staging folder').toBe(true);
      const big = await readFile(join(house.configRoot, 'www/big.bin'));
      expect(createHash('sha256').update(big).digest('hex')).toBe(listings.a['www/big.bin']?.sha256);
    },
  },
  {
    name: 'mid-backup (the archive is being written)',
    commit: () => shas.b,
    newListing: () => listings.b,
    journalSteps: ['backup'],
    async killWhen(r, id) {
      await r.waitForLog(new RegExp(`${id} backup: started`), 60_000);
      const known = new Set(await readdir(house.backupDir));
      // A partial archive, or a finished one whose record is not written yet.
      return waitFor(
        'the backup archive being written',
        async () => {
          const names = await readdir(house.backupDir);
          return names.find((n) => !known.has(n) && (n.endsWith('.partial') || (n.endsWith('.tar.gz') && !names.includes(n.replace(/\.tar\.gz$/, '.json')))));
        },
        60_000,
        2,
      );
    },
  },
  {
    name: 'mid-restore of a deploy Home Assistant rejects (throttled link)',
    commit: () => shas.invalid,
    newListing: () => null,
    journalSteps: ['rollback'],
    before: () => house.ha.hang(/check_config/),
    async killWhen(r, id) {
      await r.waitForLog(new RegExp(`${id} check: started`), 60_000);
      // Slow the link, then let Home Assistant answer (invalid: a missing !include): the rollback's
      // commands now take a while each, and the kill lands between the restore and the manifest.
      proxy.throttle(2000);
      house.ha.reset();
      await r.waitForLog(new RegExp(`${id} rollback: started`), 60_000);
      const original = listings.a['configuration.yaml']?.sha256;
      await waitFor(
        'configuration.yaml restored',
        async () => createHash('sha256').update(await readFile(join(house.configRoot, 'configuration.yaml'))).digest('hex') === original,
        60_000,
        2,
      );
      return 'configuration.yaml restored';
    },
    after: () => proxy.throttle(null),
    async atKill(killed, id) {
      // The files were back, but the rollback step never finished: killed in the middle of it.
      expect(killed.log).not.toMatch(new RegExp(`${id} rollback: (?!started)`));
    },
  },
  {
    name: 'while Home Assistant restarts',
    commit: () => shas.restart,
    newListing: () => listings.restart,
    journalSteps: ['activate', 'verify'],
    before() {
      // Long enough that Home Assistant is still down when the new relay rolls back.
      house.ha.setRestartDelay(8000);
      restartsBefore = house.ha.restarts;
    },
    async killWhen() {
      await waitFor('Home Assistant down for the restart', async () => house.ha.restarts > restartsBefore && house.ha.status === 'down', 60_000, 5);
      return `Home Assistant down since restart ${house.ha.restarts}`;
    },
    after: () => house.ha.setRestartDelay(300),
    afterRecovery(status) {
      // Home Assistant was restarting with the new files: rolled back, it must be restarted once
      // more after the restore, or it runs whatever it read while starting.
      if (status === 'rolled_back') expect(house.ha.restarts - restartsBefore, 'restarts: the deploy\'s, then the rollback\'s').toBe(2);
    },
  },
];

describe('a relay killed with SIGKILL and started again', () => {
  beforeAll(async () => {
    sshd = await startSshd();
    proxy = await startTcpProxy(sshd.port);
    edge = await startTestEdge(await mkdtemp(join(tmpdir(), 'lanyard-edge-')));
    // keepBackups 2: every case takes two or three backups, so pruning really runs between cases.
    const transport = sshTransportOf(sshd);
    if (transport.kind !== 'ssh') throw new Error('expected the ssh transport');
    house = await createHouse({ edgeUrl: edge.url, transport: { ...transport, port: proxy.port }, relayOverrides: { deploy: { keepBackups: 2 } } });
    api = apiClient(edge.url, TEST_SECRETS.operatorToken);

    const scripts = (alias: string) => `goodnight:\n  alias: ${alias}\n  sequence: []\n`;
    const configuration = await readFile(join(house.work, 'configuration.yaml'), 'utf8');
    // A: a big file, a file B deletes, a script.
    await mkdir(join(house.work, 'www'), { recursive: true });
    await writeFile(join(house.work, 'www/big.bin'), randomBytes(BIG_FILE_BYTES));
    shas.a = await house.commit({ 'scripts.yaml': scripts('Goodnight A'), 'www/removed-by-b.txt': 'B deletes this\n' }, 'A');
    // B: changes the script (reload), replaces the big file, adds one file and deletes another.
    await writeFile(join(house.work, 'www/big.bin'), randomBytes(BIG_FILE_BYTES));
    shas.b = await house.commit({ 'scripts.yaml': scripts('Goodnight B'), 'www/added-by-b.txt': 'B adds this\n', 'www/removed-by-b.txt': null }, 'B');
    // B plus a change only a restart applies.
    shas.restart = await house.commit({ 'configuration.yaml': `${configuration}\nrecorder:\n  purge_keep_days: 5\n` }, 'B and a restart');
    // A's files with a configuration Home Assistant rejects (the included file is missing).
    shas.invalid = await house.commit({ 'configuration.yaml': `${configuration}\nsensor: !include sensors-that-do-not-exist.yaml\n`, 'scripts.yaml': scripts('Goodnight A') }, 'Invalid');

    relay = startRelay();
    await relay.waitForLog(/edge ready/);
    // Reference listings: what a deploy of each commit that ran to the end leaves on the host.
    await deployCleanly(shas.a, 'A');
    listings.a = await hostListing();
    await deployCleanly(shas.b, 'B');
    listings.b = await hostListing();
    await deployCleanly(shas.a, 'A again');
    expect(differences(await hostListing(), listings.a)).toEqual([]);
    await deployCleanly(shas.restart, 'B with a restart');
    listings.restart = await hostListing();
    await deployCleanly(shas.a, 'A again');
    expect(differences(listings.a, listings.b)).toEqual(expect.arrayContaining(['www/added-by-b.txt', 'www/big.bin', 'www/removed-by-b.txt', 'scripts.yaml']));
  }, 240_000);

  afterAll(async () => {
    proxy?.throttle(null);
    house?.ha.reset();
    await Promise.all(relays.map((r) => r.kill('SIGKILL')));
    await edge?.stop();
    await house?.close();
    await proxy?.close();
    await sshd?.stop();
  });

  it.each(KILL_POINTS.map((point) => [point.name, point] as const))('%s: the host is the old commit or the new one, the state says which, the backup is kept', async (_name, point) => {
    const before = await hostListing();
    expect(differences(before, listings.a), 'each case starts from A deployed').toEqual([]);

    point.before?.();
    const id = await sendPush(edge.url, point.commit(), point.name);
    const seen = await point.killWhen(relay, id);
    const killed = relay;
    await killed.kill('SIGKILL');
    const journal = await journalOnDisk();
    const finishedBeforeKill = journal === null && /job \S+: (succeeded|rolled_back|failed)/.test(killed.log.split('\n').filter((l) => l.includes(id)).join('\n'));
    const context = `killed ${point.name} (${seen ?? 'no detail'}); journal named ${journal?.step ?? 'nothing'}`;
    try {
      await point.atKill?.(killed, id);
    } finally {
      point.after?.();
    }
    expect(point.journalSteps, context).toContain(journal?.step ?? null);

    relay = startRelay();
    if (journal) await relay.waitForLog(new RegExp(`journal: job ${id} was interrupted at step ${journal.step}`));
    const { deployment, steps } = await waitForDeployment(api, id, FINAL, 90_000);
    const report = `${context}; ended ${deployment.status} (${deployment.reason}); steps ${JSON.stringify(steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`))}`;
    console.info(`[kill-points] ${report}`);
    expect(deployment.reason, report).not.toBe('relay lost');

    // (a) Old or new, never a mix; the house's own files untouched either way.
    const after = await hostListing();
    const newListing = point.newListing();
    const isOld = differences(after, before).length === 0;
    const isNew = newListing !== null && differences(after, newListing).length === 0;
    expect(
      isOld || isNew,
      `${report}; the host is a mix: differs from the old commit in ${differences(after, before).join(', ')}${newListing ? ` and from the new one in ${differences(after, newListing).join(', ')}` : ''}`,
    ).toBe(true);
    for (const path of [...Object.keys(HOST_ONLY_FILES), '.storage']) expect(after[path], path).toEqual(before[path]);

    // (b) The final state is true, and it is what the journal promises for that step.
    if (isNew) expect(deployment.status, report).toBe('succeeded');
    else expect(['rolled_back', 'failed'], report).toContain(deployment.status);
    expect(deployment.status, report).toBe(promisedOutcome(journal?.step ?? null, finishedBeforeKill));
    point.afterRecovery?.(deployment.status);
    const status = await api.get('/deployments/home/status');
    expect(status.current, 'no deployment left running').toBeNull();
    if (deployment.status === 'rolled_back') {
      // Undone by restoring, not by applying the commit a second time.
      expect(relay.log, report).not.toMatch(new RegExp(`${id} apply: started`));
    }

    // (c) The backup the record names (and the one the journal named) is still on the host, intact.
    expect(deployment.summary.backupId, report).toMatch(/^lanyard-/);
    await expectBackupKept(deployment.summary.backupId);
    if (journal?.backupId && promisedOutcome(journal.step, false) === 'rolled_back') expect(deployment.summary.backupId).toBe(journal.backupId);
    // Nor is anything half-made left behind there: every archive has its record.
    const kept = await readdir(house.backupDir);
    expect(kept.filter((n) => !/^lanyard-.*\.(json|tar\.gz)$/.test(n) || (n.endsWith('.tar.gz') && !kept.includes(n.replace(/\.tar\.gz$/, '.json')))), report).toEqual([]);

    // Back to A for the next case, through an ordinary deploy; the host must be exactly as before.
    await deployCleanly(shas.a, `back to A after ${point.name}`);
    expect(differences(await hostListing(), before), 'back to A').toEqual([]);
  }, 180_000);
});

// The one kill point a real process cannot be aimed at: between the ack leaving the relay and the
// journal reaching the disk (microseconds apart). The journal on disk at the instant the ack is
// sent is exactly what a SIGKILL then would leave, so it is read right there; a relay started
// again on that folder must find the job and run it. (Before the fix the ack went first: the edge
// counted the job as running, the restarted relay knew nothing of it, and the push was never
// deployed; 90 s later the edge called it "relay lost".)
const ACK_JOB = testJobId(1);

describe('a relay killed the instant it acknowledges a job', () => {
  it('already has the job in its journal, so the relay started again runs it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lanyard-ack-journal-'));
    const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const job: JobMessage = { type: 'job', jobId: ACK_JOB, attempt: 1, kind: 'deploy', target: 'home', sha: 'a'.repeat(40), ref: 'refs/heads/main', backupId: null, driftPolicy: 'stop', requestedBy: 'ada' };
    try {
      const journal = new Journal(dir);
      await journal.open();
      let onDiskAtAck: JournalEntry | null | undefined;
      let finish: () => void = () => undefined;
      const killed = new JobRunner(
        journal,
        {
          execute: () => new Promise((resolve) => (finish = () => resolve({ status: 'failed', reason: 'killed', summary: {} }))),
          recover: async () => ({ status: 'failed', reason: 'not this relay', summary: {} }),
        },
        {
          send(message: RelayMessage) {
            const path = join(dir, 'current-job.json');
            if (message.type === 'ack') onDiskAtAck = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as JournalEntry) : null;
            return true;
          },
        },
        quiet,
        'home',
      );
      killed.onMessage(job);
      await waitFor('the ack', async () => onDiskAtAck !== undefined, 10_000, 5);
      expect(onDiskAtAck, 'the journal when the ack went out').toMatchObject({ job: { jobId: ACK_JOB }, step: 'fetch' });

      // A relay started again on the same state: what it finds is what the disk held at the ack.
      const restartedDir = await mkdtemp(join(tmpdir(), 'lanyard-ack-restarted-'));
      try {
        if (onDiskAtAck) await writeFile(join(restartedDir, 'current-job.json'), JSON.stringify(onDiskAtAck));
        const restartedJournal = new Journal(restartedDir);
        await restartedJournal.open();
        const recovered: string[] = [];
        const sent: RelayMessage[] = [];
        const restarted = new JobRunner(
          restartedJournal,
          {
            execute: async () => ({ status: 'failed', reason: 'not a new job', summary: {} }),
            recover: async (entry) => (recovered.push(`${entry.job.jobId}@${entry.step}`), { status: 'succeeded', reason: null, summary: {} }),
          },
          { send: (m: RelayMessage) => (sent.push(m), true) },
          quiet,
          'home',
        );
        expect(await restarted.inFlight()).toMatchObject({ jobId: ACK_JOB, step: 'fetch' });
        await restarted.recover();
        await restarted.idle();
        expect(recovered).toEqual([`${ACK_JOB}@fetch`]);
        expect(sent.filter((m) => m.type === 'result')).toMatchObject([{ jobId: ACK_JOB, status: 'succeeded' }]);
      } finally {
        await rm(restartedDir, { recursive: true, force: true });
      }
      finish();
      await killed.idle();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
