// The relay's backup inventory at the edge, in workerd: a `backups` message from a relay speaking
// the real protocol shows in the status and at GET …/backups, tells watching pages when it changes,
// an invalid one is refused and changes nothing, and a restore of a backup the relay no longer
// keeps is refused — while a target whose relay never reported an inventory restores as before.
import { describe, expect, it } from 'vitest';
import { BACKUP_INVENTORY_CAPABILITY, type KeptBackup } from '../../shared/protocol.ts';
import { fakeSha } from '../support/github-payloads.ts';
import { apiCall, BASE, call, TOKENS } from './helpers.ts';
import { connectRelay, drainJobs, type TestRelay } from './relay-socket.ts';
import { signIn } from './status-page.ts';

/** A deployment of another edge, shaped as the edge makes ids. */
const ELSEWHERE = 'dep_00000000000000e15e';

/** A relay that reports its backups says so in `hello`. */
const REPORTING = ['deploy', 'rollback', BACKUP_INVENTORY_CAPABILITY];

function backup(id: string, overrides: Partial<KeptBackup> = {}): KeptBackup {
  return { id, createdAt: 1_764_000_000_000, deploymentId: null, sha: null, files: 2, bytes: 4096, ...overrides };
}

async function inventoryOf(target: string): Promise<Record<string, any> | null> {
  const { status, body } = await apiCall(`/deployments/${target}/backups`, 'viewer');
  expect(status).toBe(200);
  return body.backups;
}

/** Sends an inventory and waits until the edge answers with exactly these ids (the hub does not reply to it). */
async function report(relay: TestRelay, target: string, backups: KeptBackup[]): Promise<Record<string, any>> {
  relay.send({ type: 'backups', backups, at: Date.now() });
  const want = JSON.stringify(backups);
  for (let i = 0; i < 100; i += 1) {
    const inventory = await inventoryOf(target);
    if (inventory && JSON.stringify(inventory.items) === want) return inventory;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the edge never showed ${want}`);
}

/** A deploy the relay finishes at once, recording `backupId` in its summary. */
async function deployWithBackup(relay: TestRelay, target: string, seed: string, backupId: string): Promise<{ id: string; sha: string }> {
  const sha = fakeSha(seed);
  const queued = await apiCall(`/deployments/${target}/deploy`, 'operator', { body: { sha } });
  expect(queued.status).toBe(202);
  const job = await relay.next('job');
  if (job.type !== 'job') throw new Error('expected a job');
  relay.send({ type: 'ack', jobId: job.jobId, attempt: job.attempt });
  relay.send({ type: 'result', jobId: job.jobId, status: 'succeeded', reason: null, summary: { backupId, filesChanged: ['automations.yaml'] } as never });
  await relay.next('recorded');
  return { id: job.jobId, sha };
}

describe("the relay's backup inventory", () => {
  it('shows in the status and at GET …/backups, is not audited, and tells watching pages only when it changes', async () => {
    const relay = await connectRelay('home', 'relay-token-home', true, REPORTING);
    await drainJobs(relay);
    expect(await inventoryOf('home')).toBeNull();
    expect((await apiCall('/deployments/home/status', 'viewer')).body.backups).toBeNull();

    const vera = await signIn(TOKENS.viewer);
    const watch = await call('/targets/home/watch', { headers: { Upgrade: 'websocket', Cookie: vera.cookie, Origin: BASE } });
    expect(watch.status).toBe(101);
    const socket = watch.webSocket!;
    socket.accept();
    let changes = 0;
    socket.addEventListener('message', () => {
      changes += 1;
    });

    const first = [
      backup('lanyard-20261122T190500Z-dep_first', { deploymentId: 'dep_000000000000000f1r', sha: fakeSha('before-first'), files: 3, bytes: 1234 }),
      backup('lanyard-20261123T080000Z-dep_second', { createdAt: 1_764_100_000_000 }),
    ];
    const before = Date.now();
    const inventory = await report(relay, 'home', first);
    expect(inventory.reportedAt).toBeGreaterThanOrEqual(before);
    expect(inventory.items).toEqual(first);
    const { body: status } = await apiCall('/deployments/home/status', 'viewer');
    expect(status.backups).toEqual(inventory);
    await expect.poll(() => changes).toBe(1);

    // The same list again: kept (a fresh reportedAt), but nothing for the pages to redraw.
    relay.send({ type: 'backups', backups: first, at: Date.now() });
    await new Promise((r) => setTimeout(r, 300));
    expect(changes).toBe(1);
    await report(relay, 'home', first.slice(1));
    await expect.poll(() => changes).toBe(2);

    const { body: audit } = await apiCall('/deployments/home/audit', 'admin');
    expect(audit.entries.map((e: { action: string }) => e.action)).not.toContain('relay.backups');
    expect(JSON.stringify(audit.entries)).not.toContain('lanyard-20261122T190500Z-dep_first');
    socket.close(1000, 'done');
    relay.close();
  });

  it('answers an invalid inventory with an error that names the field, and keeps the last one', async () => {
    const relay = await connectRelay('home', 'relay-token-home', true, REPORTING);
    await drainJobs(relay);
    const kept = await report(relay, 'home', [backup('lanyard-20261124T000000Z-dep_valid')]);

    const tooMany = Array.from({ length: 201 }, (_, i) => backup(`lanyard-20261124T000000Z-dep_${i}`));
    const invalid: [string, unknown][] = [
      ['backups', { type: 'backups', backups: tooMany, at: Date.now() }],
      ['backups.0.id', { type: 'backups', backups: [backup('<script>alert(1)</script>')], at: Date.now() }],
      ['backups.0.bytes', { type: 'backups', backups: [backup('lanyard-20261124T000000Z-x', { bytes: -1 })], at: Date.now() }],
      ['backups.0.sha', { type: 'backups', backups: [backup('lanyard-20261124T000000Z-x', { sha: 'not-a-sha' })], at: Date.now() }],
      ['at', { type: 'backups', backups: [] }],
    ];
    for (const [field, message] of invalid) {
      relay.send(JSON.stringify(message));
      const error = await relay.next('error');
      expect(error, field).toMatchObject({ type: 'error', code: 'invalid_message' });
      expect((error as { message: string }).message, field).toMatch(new RegExp(`^invalid message: .*${field.replaceAll('.', '\\.')}:`));
    }
    expect(await inventoryOf('home')).toEqual(kept);

    // Before hello, an inventory is refused like anything else.
    const silent = await connectRelay('home', 'relay-token-home', false);
    silent.send({ type: 'backups', backups: [], at: Date.now() });
    expect(await silent.next('error')).toMatchObject({ message: 'say hello first' });
    expect(await inventoryOf('home')).toEqual(kept);
    silent.close();
    relay.close();
  });

  it('refuses a restore of a backup the relay no longer keeps with 409 naming it, and queues one it keeps', async () => {
    const relay = await connectRelay('home', 'relay-token-home', true, REPORTING);
    await drainJobs(relay);
    const pruned = 'lanyard-20261125T000000Z-dep_pruned';
    const keptId = 'lanyard-20261125T010000Z-dep_kept';
    const older = await deployWithBackup(relay, 'home', 'backup-maker-pruned', pruned);
    const newer = await deployWithBackup(relay, 'home', 'backup-maker-kept', keptId);
    // A backup the relay keeps that no deployment here recorded: its own record names the commit.
    const foreign = backup('lanyard-20261125T020000Z-elsewhere', { deploymentId: ELSEWHERE, sha: fakeSha('foreign-base') });
    await report(relay, 'home', [backup(keptId, { deploymentId: newer.id, sha: older.sha }), foreign]);

    const refused = await apiCall('/deployments/home/rollback', 'operator', { body: { backupId: pruned } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('backup_not_kept');
    expect(refused.body.error.message).toContain(`The relay no longer keeps backup "${pruned}"`);
    expect(refused.body.error.message).toContain('restore one of the 2 backups it keeps');

    const unknown = await apiCall('/deployments/home/rollback', 'operator', { body: { backupId: 'lanyard-20200101T000000Z-nothing' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('unknown_backup');

    const queued = await apiCall('/deployments/home/rollback', 'operator', { body: { backupId: keptId } });
    expect(queued.status).toBe(202);
    // The house goes back to what was deployed before the backup's deployment ran.
    expect(queued.body.deployment).toMatchObject({ kind: 'rollback', restoreBackupId: keptId, sha: older.sha, message: `Restore backup ${keptId} (taken before ${newer.id})` });
    expect(await relay.next('job')).toMatchObject({ jobId: queued.body.deployment.id, kind: 'rollback', backupId: keptId, sha: older.sha });
    relay.send({ type: 'result', jobId: queued.body.deployment.id, status: 'succeeded', reason: null, summary: { backupId: keptId } as never });
    await relay.next('recorded');

    const elsewhere = await apiCall('/deployments/home/rollback', 'operator', { body: { backupId: foreign.id } });
    expect(elsewhere.status).toBe(202);
    expect(elsewhere.body.deployment).toMatchObject({ restoreBackupId: foreign.id, sha: foreign.sha, message: `Restore backup ${foreign.id} (taken before ${ELSEWHERE})` });
    const job = await relay.next('job');
    if (job.type !== 'job') throw new Error('expected a job');
    relay.send({ type: 'result', jobId: job.jobId, status: 'succeeded', reason: null, summary: {} as never });
    await relay.next('recorded');

    // A backup recorded after the last inventory arrived is not in it yet (the relay reports right
    // after the result): it is accepted until a newer inventory says otherwise.
    const fresh = 'lanyard-20261125T030000Z-dep_fresh';
    await deployWithBackup(relay, 'home', 'backup-maker-fresh', fresh);
    const early = await apiCall('/deployments/home/rollback', 'operator', { body: { backupId: fresh } });
    expect(early.status).toBe(202);
    const restore = await relay.next('job');
    if (restore.type !== 'job') throw new Error('expected a job');
    expect(restore).toMatchObject({ backupId: fresh });
    relay.send({ type: 'result', jobId: restore.jobId, status: 'succeeded', reason: null, summary: { backupId: fresh } as never });
    await relay.next('recorded');
    await report(relay, 'home', [backup(keptId)]);
    expect((await apiCall('/deployments/home/rollback', 'operator', { body: { backupId: fresh } })).status).toBe(409);
    relay.close();
  });

  it('forgets the inventory when a relay that does not report one takes over, and restores as before', async () => {
    const relay = await connectRelay('home', 'relay-token-home', true, REPORTING);
    await drainJobs(relay);
    const gone = 'lanyard-20261127T000000Z-dep_gone';
    await deployWithBackup(relay, 'home', 'backup-maker-gone', gone);
    await report(relay, 'home', [backup('lanyard-20261127T010000Z-dep_other')]);
    expect((await apiCall('/deployments/home/rollback', 'operator', { body: { backupId: gone } })).status).toBe(409);
    relay.close();

    // The same kind of relay again: the inventory stands until it reports a new one.
    const again = await connectRelay('home', 'relay-token-home', true, REPORTING);
    expect((await inventoryOf('home'))?.items).toEqual([backup('lanyard-20261127T010000Z-dep_other')]);
    again.close();

    // An older relay would never update it: the edge forgets it rather than refuse from a stale list.
    const older = await connectRelay('home');
    expect(await inventoryOf('home')).toBeNull();
    expect((await apiCall('/deployments/home/status', 'viewer')).body.backups).toBeNull();
    const queued = await apiCall('/deployments/home/rollback', 'operator', { body: { backupId: gone } });
    expect(queued.status).toBe(202);
    expect(await older.next('job')).toMatchObject({ kind: 'rollback', backupId: gone });
    older.close();
  });

  it('with no inventory ever reported, restores any backup a deployment recorded, as before', async () => {
    // `cabin` shares home's relay token; its relay here never sends `backups`, like an older relay.
    const relay = await connectRelay('cabin');
    await drainJobs(relay);
    const made = await deployWithBackup(relay, 'cabin', 'cabin-backup-maker', 'lanyard-20261126T000000Z-dep_cabin');
    expect(await inventoryOf('cabin')).toBeNull();
    const queued = await apiCall('/deployments/cabin/rollback', 'operator', { body: { backupId: 'lanyard-20261126T000000Z-dep_cabin' } });
    expect(queued.status).toBe(202);
    expect(queued.body.deployment).toMatchObject({ kind: 'rollback', restoreBackupId: 'lanyard-20261126T000000Z-dep_cabin', message: `Restore backup lanyard-20261126T000000Z-dep_cabin (taken before ${made.id})` });
    expect(await relay.next('job')).toMatchObject({ kind: 'rollback', backupId: 'lanyard-20261126T000000Z-dep_cabin' });
    relay.close();
  });
});
