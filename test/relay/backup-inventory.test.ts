// The relay telling the edge which backups the host keeps: the `backups` message holds only what
// the records say, a listing that fails is one warning and no message, and the job runner sends it
// after the edge's welcome and after every job's result, never before the result or in its way.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackupInventory, inventoryMessage } from '../../relay/backup-inventory.ts';
import { JobRunner, type JobExecutor } from '../../relay/job-runner.ts';
import { Journal } from '../../relay/journal.ts';
import type { Logger } from '../../relay/log.ts';
import type { BackupRecord } from '../../relay/pipeline/backups.ts';
import { BackupsMessage, type JobMessage, type RelayMessage } from '../../shared/protocol.ts';
import { testJobId } from '../support/wire-ids.ts';

const SHA = 'b'.repeat(40);

function record(id: string, createdAt: number, overrides: Partial<BackupRecord> = {}): BackupRecord {
  return {
    id,
    createdAt,
    jobId: 'dep_01m82e4vg06ns08fd0',
    reason: 'before deploy of bbbbbbb',
    scope: 'changed',
    archive: { path: `/backup/${id}.tar.gz`, sha256: 'c'.repeat(64), bytes: 2048, entries: 2 },
    files: ['automations.yaml', 'scripts.yaml'],
    absent: ['new.yaml'],
    baseSha: SHA,
    manifest: null,
    ...overrides,
  };
}

function logger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: () => undefined, warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };
}

function job(id: string): JobMessage {
  return { type: 'job', jobId: id, attempt: 1, kind: 'deploy', target: 'home', sha: 'a'.repeat(40), ref: 'refs/heads/main', backupId: null, driftPolicy: 'stop', requestedBy: 'ada' };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`never: ${what}`);
}

describe('the backups message', () => {
  it('says what each record holds: id, when, the job that took it, the commit before it, files and bytes', () => {
    const message = inventoryMessage([record('lanyard-20261122T190500Z-dep_a', 1_764_000_000_000)], 1_764_000_500_000);
    expect(message).toEqual({
      type: 'backups',
      at: 1_764_000_500_000,
      backups: [{ id: 'lanyard-20261122T190500Z-dep_a', createdAt: 1_764_000_000_000, deploymentId: 'dep_01m82e4vg06ns08fd0', sha: SHA, files: 2, bytes: 2048 }],
    });
    expect(BackupsMessage.safeParse(message).success).toBe(true);
  });

  it('says null for what a record does not know, sends the newest 200 oldest first, and leaves out what the edge could not take', () => {
    const records = Array.from({ length: 205 }, (_, i) => record(`lanyard-20261122T190500Z-n${String(i).padStart(3, '0')}`, 1_000 + i));
    records.reverse();
    records.push(record('not a backup id <b>', 5_000));
    records.push(record('lanyard-20261122T190500Z-unknown', 4_000, { baseSha: null, jobId: '' }));
    records.push(record('lanyard-20261122T190500Z-sha256', 4_500, { baseSha: 'd'.repeat(64) }));
    const message = inventoryMessage(records, 1);
    expect(BackupsMessage.parse(message)).toEqual(message);
    expect(message.backups).toHaveLength(200);
    expect(message.backups.map((b) => b.createdAt)).toEqual([...message.backups.map((b) => b.createdAt)].sort((a, b) => a - b));
    expect(message.backups.at(-1)).toMatchObject({ id: 'lanyard-20261122T190500Z-sha256', sha: null });
    expect(message.backups.at(-2)).toMatchObject({ id: 'lanyard-20261122T190500Z-unknown', sha: null, deploymentId: null });
    expect(message.backups.map((b) => b.id)).not.toContain('not a backup id <b>');
    // The oldest are the ones left out.
    expect(message.backups[0]!.id).toBe('lanyard-20261122T190500Z-n007');
  });
});

describe('reporting the inventory', () => {
  it('turns a listing that fails into one warning line and no message', async () => {
    const log = logger();
    const sent: RelayMessage[] = [];
    const inventory = new BackupInventory({ list: () => Promise.reject(new Error('ssh home: connection lost')), send: (m) => (sent.push(m), true), logger: log });
    await inventory.report();
    expect(sent).toEqual([]);
    expect(log.lines).toEqual(['warn could not list the backups to tell the edge: ssh home: connection lost']);
  });

  it('runs once more after a report under way when asked again, however often it was asked', async () => {
    let listings = 0;
    let release: () => void = () => undefined;
    const sent: RelayMessage[] = [];
    const inventory = new BackupInventory({
      list: async () => {
        listings += 1;
        if (listings === 1) await new Promise<void>((r) => (release = r));
        return [record(`lanyard-20261122T190500Z-l${listings}`, listings)];
      },
      send: (m) => (sent.push(m), true),
      logger: logger(),
    });
    const first = inventory.report();
    const again = [inventory.report(), inventory.report(), inventory.report()];
    release();
    await Promise.all([first, ...again]);
    expect(listings).toBe(2);
    expect(sent.map((m) => m.type === 'backups' && m.backups[0]!.id)).toEqual(['lanyard-20261122T190500Z-l1', 'lanyard-20261122T190500Z-l2']);
  });
});

describe('the job runner and the inventory', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lanyard-inventory-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function runnerWith(executor: JobExecutor) {
    const journal = new Journal(dir);
    await journal.open();
    const sent: RelayMessage[] = [];
    const log = logger();
    const runner = new JobRunner(journal, executor, { send: (m) => (sent.push(m), true) }, log, 'home');
    return { runner, sent, log };
  }

  it('sends the backups after the welcome, and after each job only once its result is sent', async () => {
    let kept = [record('lanyard-20261122T190500Z-first', 1)];
    const { runner, sent } = await runnerWith({
      execute: async () => {
        kept = [...kept, record('lanyard-20261122T190500Z-second', 2)];
        return { status: 'succeeded', reason: null, summary: { backupId: 'lanyard-20261122T190500Z-second' } };
      },
      recover: async () => ({ status: 'failed', reason: 'unexpected', summary: {} }),
      backups: async () => kept,
    });
    await runner.onReady();
    await until(() => sent.some((m) => m.type === 'backups'), 'a backups message after the welcome');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ type: 'backups', backups: [{ id: 'lanyard-20261122T190500Z-first' }] });

    runner.onMessage(job(testJobId(1)));
    await until(() => sent.filter((m) => m.type === 'backups').length === 2, 'a backups message after the job');
    const types = sent.map((m) => m.type);
    expect(types.indexOf('result')).toBeLessThan(types.lastIndexOf('backups'));
    expect(sent.at(-1)).toMatchObject({ type: 'backups', backups: [{ id: 'lanyard-20261122T190500Z-first' }, { id: 'lanyard-20261122T190500Z-second' }] });
  });

  it('reports the job the same whatever the listing does, and warns once', async () => {
    const { runner, sent, log } = await runnerWith({
      execute: async () => ({ status: 'rolled_back', reason: 'Home Assistant says the configuration is invalid', summary: {} }),
      recover: async () => ({ status: 'failed', reason: 'unexpected', summary: {} }),
      backups: () => {
        throw new Error('no host');
      },
    });
    runner.onMessage(job(testJobId(2)));
    await runner.idle();
    await until(() => log.lines.length > 0, 'the warning');
    expect(sent.filter((m) => m.type === 'result')).toEqual([expect.objectContaining({ jobId: testJobId(2), status: 'rolled_back' })]);
    expect(sent.filter((m) => m.type === 'backups')).toEqual([]);
    expect(log.lines).toEqual(['warn could not list the backups to tell the edge: no host']);
  });

  it('leaves the inventory to the end of a job that is running when the edge welcomes the relay', async () => {
    let finish: () => void = () => undefined;
    const { runner, sent } = await runnerWith({
      execute: () => new Promise((r) => (finish = () => r({ status: 'succeeded', reason: null, summary: {} }))),
      recover: async () => ({ status: 'failed', reason: 'unexpected', summary: {} }),
      backups: async () => [],
    });
    runner.onMessage(job(testJobId(3)));
    await until(() => sent.some((m) => m.type === 'ack'), 'the ack');
    await runner.onReady();
    await new Promise((r) => setTimeout(r, 30));
    expect(sent.filter((m) => m.type === 'backups')).toEqual([]);
    finish();
    await runner.idle();
    await until(() => sent.some((m) => m.type === 'backups'), 'the inventory after the job');
    expect(sent.map((m) => m.type).slice(-2)).toEqual(['result', 'backups']);
  });
});
