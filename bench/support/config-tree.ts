// A generated Home Assistant configuration of a given size, the same bytes on every run: YAML
// packages, automations and dashboards (text that compresses well) and a `www/` of images and
// sounds (bytes that do not), in the proportions of a large real-world config.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface ConfigTreeOptions {
  files: number;
  /** Total size, roughly: each file's size is drawn around totalBytes / files. */
  totalBytes: number;
  /** Changes the content (not the names) of every file, for a "second commit" of the same tree. */
  seed?: string;
}

/** Deterministic bytes: sha256 in counter mode over the seed, so the same name gives the same file. */
function pseudoRandomBytes(seed: string, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let block = 0;
  for (let offset = 0; offset < length; offset += 32, block += 1) {
    createHash('sha256').update(`${seed}:${block}`).digest().copy(out, offset, 0, Math.min(32, length - offset));
  }
  return out;
}

function yamlText(seed: string, length: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < length; i += 1) {
    const line = `  - alias: "${seed} rule ${i}"\n    triggers: [{ trigger: state, entity_id: sensor.room_${i % 97} }]\n    actions: [{ action: light.turn_on, target: { entity_id: light.room_${i % 53} } }]\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join('').slice(0, length));
}

/** The relative paths of the tree, in a stable order. */
export function configTreePaths(files: number): string[] {
  const paths: string[] = ['configuration.yaml', 'automations.yaml', 'scripts.yaml', 'scenes.yaml'];
  for (let i = 0; paths.length < files; i += 1) {
    const kind = i % 10;
    if (kind < 4) paths.push(`packages/area_${i % 40}/package_${i}.yaml`);
    else if (kind < 6) paths.push(`dashboards/views/view_${i}.yaml`);
    else if (kind < 9) paths.push(`www/floorplan/${i % 25}/tile_${i}.png`);
    else paths.push(`www/sounds/chime_${i}.mp3`);
  }
  return paths.slice(0, files);
}

/** The content of one file of the tree. */
export function configTreeFile(path: string, averageBytes: number, seed = ''): Buffer {
  // Sizes vary by name around the average: YAML 0.25–0.75x, binary 1.375–2.125x (they are 40% of the files).
  const spread = createHash('sha256').update(path).digest().readUInt16BE(0) / 65535;
  const binary = path.startsWith('www/');
  const size = Math.max(64, Math.round(averageBytes * (binary ? 1.375 + spread * 0.75 : 0.25 + spread * 0.5)));
  if (path === 'configuration.yaml') return Buffer.from(`homeassistant:\n  name: Bench House ${seed}\n  packages: !include_dir_named packages\nautomation: !include automations.yaml\nscript: !include scripts.yaml\nscene: !include scenes.yaml\n`);
  return binary ? pseudoRandomBytes(`${seed}${path}`, size) : yamlText(`${seed}${path}`, size);
}

/** Writes the tree under `dir`; resolves with its paths and total bytes. */
export async function writeConfigTree(dir: string, options: ConfigTreeOptions): Promise<{ paths: string[]; bytes: number }> {
  const paths = configTreePaths(options.files);
  const average = options.totalBytes / options.files;
  let bytes = 0;
  const folders = new Set(paths.map((p) => dirname(join(dir, p))));
  for (const folder of folders) await mkdir(folder, { recursive: true });
  for (const path of paths) {
    const content = configTreeFile(path, average, options.seed);
    bytes += content.length;
    await writeFile(join(dir, path), content);
  }
  return { paths, bytes };
}
