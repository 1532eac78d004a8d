// The newcomer's first command: `npm run demo` deploys a change and rolls back an invalid one,
// on 127.0.0.1 only, and cleans up after itself.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.ts';

const run = promisify(execFile);

describe('npm run demo', () => {
  it('shows a deploy and an automatic rollback, prints the status page and a token, and cleans up', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'lanyard-demo-test-'));
    const dir = join(parent, 'demo');
    const port = await freePort();
    const { stdout: out, stderr } = await run('npm', ['run', '--silent', 'demo', '--', '--once', '--port', String(port), '--dir', dir], {
      cwd: join(import.meta.dirname, '../..'),
      maxBuffer: 16 * 1024 * 1024,
    });
    // Warnings (a failed step) go to stderr, the rest to stdout; a person sees both.
    const stdout = `${out}\n${stderr}`;
    expect(stdout).toContain('DEMO RESULT: deploy succeeded, invalid config rolled_back');
    expect(stdout).toMatch(/check: failed after .*Unable to read file .*sensors\.yaml/);
    expect(stdout).toMatch(/rollback: restored 1 file/);
    expect(stdout).toContain('configuration.yaml on the host is back to what it was');
    expect(stdout).toContain(`status page: http://127.0.0.1:${port}/`);
    expect(stdout).toMatch(/API token: +demo-operator-[0-9a-f]{24}/);
    // Every step of the relay's work is shown with its duration.
    for (const step of ['fetch', 'plan', 'backup', 'apply', 'check', 'activate', 'verify', 'record']) expect(stdout).toMatch(new RegExp(`${step}: .*\\(\\d+ ms\\)`));
    expect(await readdir(parent)).toEqual([]);
  }, 240_000);
});
