// The relay's crash journal, on the relay's own disk. Before each step of a job the relay writes
// which job and which step it is on (fsync, then an atomic rename), so a relay killed at any moment
// knows on restart what it was doing and whether the host may have been touched. Finished jobs
// wait in an outbox until the edge confirms it recorded their result.
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { StepName } from '../shared/deployment.ts';
import { JobMessage, ResultMessage } from '../shared/protocol.ts';
import { JOB_ID_SHAPE, pathInside } from './safe-path.ts';

export const JournalEntry = z.object({
  job: JobMessage,
  step: StepName,
  /** When the job started on this relay. */
  startedAt: z.number(),
  /** What later steps (and recovery) need to know: the backup made, whether files were written. */
  context: z.record(z.string(), z.unknown()),
});
export type JournalEntry = z.infer<typeof JournalEntry>;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Numbers each write's temporary file: two writes of one path at once must not share (and rename away) one. */
let temporaries = 0;

/** Writes `data` to `path` so that after a crash the file holds either the old or the new bytes. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  temporaries += 1;
  const temporary = `${path}.${process.pid}.${temporaries}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
  await fsyncPath(join(path, '..'));
}

export class Journal {
  private readonly currentPath: string;
  private readonly outbox: string;

  constructor(private readonly dir: string) {
    this.currentPath = join(dir, 'current-job.json');
    this.outbox = join(dir, 'outbox');
  }

  async open(): Promise<void> {
    await mkdir(this.outbox, { recursive: true, mode: 0o700 });
  }

  async current(): Promise<JournalEntry | null> {
    let text: string;
    try {
      text = await readFile(this.currentPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const parsed = JournalEntry.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`the journal ${this.currentPath} is unreadable; move it aside to start fresh`);
    return parsed.data;
  }

  async write(entry: JournalEntry): Promise<void> {
    await writeFileAtomic(this.currentPath, JSON.stringify(entry));
  }

  /** Where a job's result waits for the edge: named after the job, so only a well-formed job id names one. */
  private outboxFile(jobId: string): string {
    return pathInside(this.outbox, JOB_ID_SHAPE, jobId, '.json');
  }

  /** The job is over: its result goes to the outbox first, then the current entry is removed. */
  async finish(result: ResultMessage): Promise<void> {
    await writeFileAtomic(this.outboxFile(result.jobId), JSON.stringify(result));
    await rm(this.currentPath, { force: true });
    await fsyncPath(this.dir);
  }

  async pendingResults(): Promise<ResultMessage[]> {
    const names = (await readdir(this.outbox)).filter((n) => n.endsWith('.json'));
    const results: ResultMessage[] = [];
    for (const name of names.sort()) {
      // A file cut short (a disk that filled up) is skipped like one that is not a result, and so is
      // one the edge's `recorded` removed since the listing: neither may stop every later job.
      const text = await readFile(join(this.outbox, name), 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return '';
        throw error;
      });
      const parsed = ResultMessage.safeParse(parseJson(text));
      if (parsed.success) results.push(parsed.data);
    }
    return results;
  }

  async pendingResult(jobId: string): Promise<ResultMessage | null> {
    return (await this.pendingResults()).find((r) => r.jobId === jobId) ?? null;
  }

  /** The edge confirmed it recorded this result. Throws UnsafeName for an id that is not a job id. */
  async forget(jobId: string): Promise<void> {
    await rm(this.outboxFile(jobId), { force: true });
  }
}
