// Packs the files a deploy writes into one gzipped tar, so the upload is a single stream into
// the host's staging folder instead of one round trip per file. Modes and symlinks are kept.
import { spawn } from 'node:child_process';

export function packFiles(sourceDir: string, paths: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // -T - reads the list from stdin; --null keeps any file name intact; --no-recursion packs
    // exactly the files named.
    const tar = spawn('tar', ['-czf', '-', '-C', sourceDir, '--null', '--no-recursion', '-T', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    tar.stdout.on('data', (c: Buffer) => chunks.push(c));
    tar.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    tar.on('error', reject);
    tar.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`packing the upload failed (tar exit ${code}): ${stderr.trim()}`))));
    tar.stdin.end(paths.map((p) => `${p}\0`).join(''));
  });
}
