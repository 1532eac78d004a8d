// Where the manifest of the last deployed commit lives: on the host, in `.lanyard/manifest.json`
// under the config root (it survives a reinstalled relay), and a copy on the relay's own disk (it
// survives a host restored from an old snapshot). The host's copy wins when both exist.
//
// On 15,000 files the manifest is 2.7 MB of JSON and takes a quarter of a second to check with
// zod. Between deploys it is the relay's own last word, so the store keeps what it last wrote or
// read with the SHA-256 of its text, and a read asks the host only for the checksum of its copy:
// the file is read and checked again only when the checksum differs (someone edited or restored
// it), never trusted from memory when the host's bytes say otherwise.
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../journal.ts';
import { shellQuote, type TargetHost } from '../transport/target-host.ts';
import { readHostFile, writeHostFile } from './host-files.ts';
import { parseManifest, serializeManifest, type Manifest } from './manifest.ts';

const sha256Of = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

export class ManifestStore {
  /** What the host's copy held when this store last wrote or read it, by the SHA-256 of its bytes. */
  private known: { sha256: string; manifest: Manifest | null } | null = null;
  /** The text of the manifest a job kept with writePending, so its `record` does not serialise it again. */
  private serialized: { manifest: Manifest; text: string } | null = null;

  constructor(
    private readonly localDir: string,
    private readonly target: string,
    private readonly configRoot: string,
  ) {}

  /** Where the host keeps the manifest, written by `write` (the backup record refers to it). */
  get hostPath(): string {
    return `${this.configRoot}/.lanyard/manifest.json`;
  }

  private get localPath(): string {
    return join(this.localDir, `${this.target}.json`);
  }

  private get pendingPath(): string {
    return join(this.localDir, `${this.target}.pending.json`);
  }

  /**
   * Keeps the manifest a job will record once it succeeds, on the relay's disk, for a relay killed
   * after the files landed (recover() records it then). Written once, beside the journal and not in
   * it: the journal is rewritten at every step, and 2.7 MB of manifest in it cost each step of a
   * large house a write and an fsync of that much.
   */
  async writePending(jobId: string, manifest: Manifest): Promise<void> {
    this.serialized = { manifest, text: serializeManifest(manifest) };
    await mkdir(this.localDir, { recursive: true });
    // The job's id on the first line, then the manifest as `write` will record it.
    await writeFileAtomic(this.pendingPath, `${JSON.stringify({ jobId })}\n${this.serialized.text}`);
  }

  /** The manifest writePending kept for this job; null when there is none for it (or it is damaged). */
  async readPending(jobId: string): Promise<Manifest | null> {
    const text = await readFile(this.pendingPath, 'utf8').catch(() => null);
    if (text === null) return null;
    const newline = text.indexOf('\n');
    if (newline < 0) return null;
    try {
      if ((JSON.parse(text.slice(0, newline)) as { jobId?: unknown }).jobId !== jobId) return null;
    } catch {
      return null;
    }
    const parsed = parseManifest(text.slice(newline + 1));
    return parsed.ok ? parsed.value : null;
  }

  async read(host: TargetHost): Promise<Manifest | null> {
    const checksum = await this.hostChecksum(host);
    if (checksum !== null && checksum === this.known?.sha256) return this.known.manifest;
    const onHost = checksum === null ? null : await readHostFile(host, this.hostPath);
    if (onHost) {
      const manifest = this.parse(onHost.toString('utf8'), `${host.description}:${this.hostPath}`);
      this.known = { sha256: sha256Of(onHost), manifest };
      return manifest;
    }
    try {
      return this.parse(await readFile(this.localPath, 'utf8'), this.localPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** Records the manifest on both sides; null (a host restored to before Lanyard) removes it. */
  async write(host: TargetHost, manifest: Manifest | null): Promise<void> {
    this.known = null;
    await mkdir(this.localDir, { recursive: true });
    if (manifest === null) {
      await host.run(`rm -f ${shellQuote(this.hostPath)}`);
      await writeFileAtomic(this.localPath, 'null');
      return;
    }
    const text = this.serialized?.manifest === manifest ? this.serialized.text : serializeManifest(manifest);
    this.serialized = null;
    await Promise.all([writeHostFile(host, this.hostPath, text), writeFileAtomic(this.localPath, text)]);
    this.known = { sha256: sha256Of(text), manifest };
  }

  /** The SHA-256 of the host's copy of `manifest` when it is the one this store last wrote or read there; null when not known. */
  checksumOf(manifest: Manifest | null): string | null {
    return manifest !== null && this.known?.manifest === manifest ? this.known.sha256 : null;
  }

  /** The SHA-256 of the host's copy, or null when there is none (or it is not a plain file). */
  private async hostChecksum(host: TargetHost): Promise<string | null> {
    const path = shellQuote(this.hostPath);
    const result = await host.run(`if [ -f ${path} ] && [ ! -L ${path} ]; then sha256sum < ${path}; else exit 44; fi`);
    if (result.code === 44) return null;
    const sha256 = /^([0-9a-f]{64})\b/.exec(result.stdout.toString('utf8'))?.[1];
    if (result.code !== 0 || !sha256) throw new Error(`reading the checksum of ${this.hostPath} failed on ${host.description}: ${result.stderr.trim() || 'no checksum printed'}`);
    return sha256;
  }

  private parse(text: string, where: string): Manifest | null {
    if (text.trim() === 'null') return null;
    const parsed = parseManifest(text);
    if (!parsed.ok) throw new Error(`the deployment manifest at ${where} is damaged (${parsed.error.message}); move it aside to let Lanyard adopt the host again`);
    return parsed.value;
  }
}
