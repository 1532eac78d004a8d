// The local transport: the relay runs on the Home Assistant host itself (a container or add-on
// with /config mounted). Scripts run with the host's own `sh`.
import { spawn } from 'node:child_process';
import { copyFile } from 'node:fs/promises';
import type { RunOptions, RunResult, TargetHost } from './target-host.ts';

export class LocalHost implements TargetHost {
  readonly description = 'local';

  run(script: string, options: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn('sh', ['-c', script], { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out), stderr }));
      // A script that exits before reading all of stdin is not an error of ours.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.stdin ?? '');
    });
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    await copyFile(localPath, remotePath);
  }

  async download(remotePath: string, localPath: string): Promise<void> {
    await copyFile(remotePath, localPath);
  }

  async close(): Promise<void> {
    // Nothing to release.
  }
}
