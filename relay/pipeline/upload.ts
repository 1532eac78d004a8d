// Packs the files a deploy writes into one tar (gzipped or not: upload-compression.ts decides), so
// the upload is a single stream into the host's staging folder instead of one round trip per file.
// Modes and symlinks are kept.
//
// The archive is a stream, piped into the SSH channel as it is made: a first deploy of 100 MB never
// sits in the relay's memory (it shares a small box with Home Assistant), and packing, sending and
// unpacking on the host overlap instead of following one another.
import { spawn } from 'node:child_process';
import { PassThrough, type Readable, type Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import { UPLOAD_GZIP_LEVEL } from './upload-compression.ts';

export interface UploadEncoding {
  /** Gzip the tar on its way (the host then unpacks with `tar -xzf`), or send it as it is. */
  gzip: boolean;
}

export interface PackedUpload {
  /** The tar, gzipped when asked, to be piped into the host's `tar -x`. Fails (emits 'error') if packing does. */
  archive: PassThrough;
  gzip: boolean;
  /** Resolves with the archive's size once it was made whole; rejects with the reason it was not. */
  finished: Promise<number>;
}

/**
 * Turns a tar stream into an upload, gzipped when asked. `made` says whether the tar was made whole (its maker's exit
 * status); the archive ends only after that, so a maker that fails after its last byte still fails
 * the upload instead of leaving a short archive that looks complete. `stop` ends the maker when the
 * reader gave up first (the host command exited).
 */
export function streamUpload(tar: Readable, made: Promise<void>, stop: () => void, encoding: UploadEncoding): PackedUpload {
  const encoder: Transform = encoding.gzip ? createGzip({ level: UPLOAD_GZIP_LEVEL, chunkSize: 64 * 1024 }) : new PassThrough();
  const archive = new PassThrough();
  let bytes = 0;
  let fail: (error: Error) => void = () => undefined;
  const encoded = new Promise<void>((resolve, reject) => {
    encoder.on('end', resolve);
    encoder.on('error', reject);
    tar.on('error', reject);
  });
  const finished = new Promise<number>((resolve, reject) => {
    fail = (error: Error) => {
      reject(error);
      // Whoever reads the archive must not take what came so far for the whole of it.
      archive.destroy(error);
      stop();
    };
    Promise.all([made, encoded]).then(() => resolve(bytes), (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))));
  });
  // Nobody may be listening for a rejection when the reader gave up first.
  finished.catch(() => undefined);
  encoder.on('data', (chunk: Buffer) => {
    if (archive.destroyed) return;
    bytes += chunk.length;
    if (!archive.write(chunk)) {
      encoder.pause();
      archive.once('drain', () => encoder.resume());
    }
  });
  void finished.then(() => archive.destroyed || archive.end(), () => undefined);
  archive.on('close', () => {
    if (!archive.writableFinished) stop();
  });
  tar.pipe(encoder);
  return { archive, finished, gzip: encoding.gzip };
}

/** Packs files of a local folder (relative paths, exactly those named) into an upload. */
export function packFiles(sourceDir: string, paths: string[], encoding: UploadEncoding = { gzip: true }): PackedUpload {
  // -T - reads the list from stdin; --null keeps any file name intact; --no-recursion packs
  // exactly the files named.
  const tar = spawn('tar', ['-cf', '-', '-C', sourceDir, '--null', '--no-recursion', '-T', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  tar.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const made = new Promise<void>((resolve, reject) => {
    tar.on('error', (error) => reject(new Error(`packing the upload failed: could not run tar (${error.message})`)));
    tar.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`packing the upload failed (tar exit ${code}): ${stderr.trim()}`))));
  });
  tar.stdin.on('error', () => undefined);
  tar.stdin.end(paths.map((p) => `${p}\0`).join(''));
  return streamUpload(tar.stdout, made, () => {
    if (tar.exitCode === null && tar.signalCode === null) tar.kill('SIGKILL');
  }, encoding);
}
