// Where the manifest of the last deployed commit lives: on the host, in `.lanyard/manifest.json`
// under the config root (it survives a reinstalled relay), and a copy on the relay's own disk (it
// survives a host restored from an old snapshot). The host's copy wins when both exist.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../journal.ts';
import { shellQuote, type TargetHost } from '../transport/target-host.ts';
import { readHostFile, writeHostFile } from './host-files.ts';
import { parseManifest, serializeManifest, type Manifest } from './manifest.ts';

export class ManifestStore {
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

  async read(host: TargetHost): Promise<Manifest | null> {
    const onHost = await readHostFile(host, this.hostPath);
    if (onHost) return this.parse(onHost.toString('utf8'), `${host.description}:${this.hostPath}`);
    try {
      return this.parse(await readFile(this.localPath, 'utf8'), this.localPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** Records the manifest on both sides; null (a host restored to before Lanyard) removes it. */
  async write(host: TargetHost, manifest: Manifest | null): Promise<void> {
    await mkdir(this.localDir, { recursive: true });
    if (manifest === null) {
      await host.run(`rm -f ${shellQuote(this.hostPath)}`);
      await writeFileAtomic(this.localPath, 'null');
      return;
    }
    const text = serializeManifest(manifest);
    await writeHostFile(host, this.hostPath, text);
    await writeFileAtomic(this.localPath, text);
  }

  private parse(text: string, where: string): Manifest | null {
    if (text.trim() === 'null') return null;
    const parsed = parseManifest(text);
    if (!parsed.ok) throw new Error(`the deployment manifest at ${where} is damaged (${parsed.error.message}); move it aside to let Lanyard adopt the host again`);
    return parsed.value;
  }
}
