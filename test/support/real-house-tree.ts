// A Home Assistant configuration of real shape, generated (never copied from anyone's
// repository), for tests and benchmarks: deep custom_components/ packages with translations and
// `__pycache__`, HACS card bundles under www/community/ (many small files, a few of several MB),
// UI-written automations/scripts/scenes, packages, dashboards, blueprints, ESPHome, themes,
// executable scripts, relative and absolute `/config/...` symlinks (a folder link among them),
// odd but legal names, multi-MB files; and, for the host only, Home Assistant's own state
// (.storage/, the database and its journals, logs, secrets, bytecode, caches).
//
// The same size and seed give the same bytes on every run. Nothing is generated until written:
// `buildRealHouse` only plans paths and sizes, so listing a 400 MB tree costs milliseconds.
//
//   const house = buildRealHouse(REAL_HOUSE_SMALL);
//   await house.writeRepository(work);            // then commitWorkTree(work, 'Initial', house.repo)
//   await house.writeHostState(configRoot);       // Home Assistant's own files on the host
//   const change = house.folderRemoved(100);      // house.writeChange(work, change); commit again
import { contentOf } from './real-house/content.ts';
import type { HostFile, HouseFacts, TreeEntry, TreeFile, TreeLink } from './real-house/entries.ts';
import { filesChanged, folderRemoved, oneAutomationChanged, type RealHouseChange } from './real-house/changes.ts';
import { ODD_NAMES } from './real-house/layout-config.ts';
import { planHouse } from './real-house/layout.ts';
import { removePaths, writeItems, type Writable, type WriteReport } from './real-house/write.ts';

export type { HostFile, HostOwnership, HouseFacts, TreeEntry, TreeFile, TreeLink } from './real-house/entries.ts';
export type { RealHouseChange } from './real-house/changes.ts';
export type { WriteReport } from './real-house/write.ts';
export { commitWorkTree, FIXTURE_AUTHOR } from './real-house/write.ts';

export interface RealHouseSize {
  /** Repository entries (files and symlinks), met exactly. */
  files: number;
  /** Repository bytes, met within a few percent (text keeps whole records). */
  totalBytes: number;
}

const MiB = 1024 * 1024;

/** The size of the largest public configurations tried in issue 15 (14,700 files / 390 MB). */
export const REAL_HOUSE_LARGE: RealHouseSize = { files: 15_000, totalBytes: 400 * MiB };
/** A house of the size the existing benchmarks use, in real shape. */
export const REAL_HOUSE_MEDIUM: RealHouseSize = { files: 5_000, totalBytes: 120 * MiB };
/** For tests: the same shape in ~300 files / 8 MiB, written in well under a second. */
export const REAL_HOUSE_SMALL: RealHouseSize = { files: 300, totalBytes: 8 * MiB };

export interface RealHouseOptions extends RealHouseSize {
  /** Changes every file's bytes (not its path or kind); the default is the one benchmarks use. */
  seed?: string;
  /**
   * false: the `/config/...` and `/homeassistant/...` links are committed relative instead (same
   * paths and count), for runs that must deploy before the relay reads absolute links as Home
   * Assistant does. Default true: the tree as real houses have it.
   */
  absoluteLinks?: boolean;
}

export interface RealHouseTree {
  size: RealHouseSize;
  seed: string;
  /** The repository: files, executables and symlinks, sorted by path. */
  repo: readonly TreeEntry[];
  /** What Home Assistant and its add-ons keep in the config folder on the host, sorted by path. */
  host: readonly HostFile[];
  facts: HouseFacts;
  repoBytes: number;
  hostBytes: number;
  files: readonly TreeFile[];
  executables: readonly TreeFile[];
  links: readonly TreeLink[];
  /** Links written as `/config/...` or `/homeassistant/...`: right only as Home Assistant sees the folder. */
  absoluteLinks: readonly TreeLink[];
  /** Repository paths Home Assistant owns on the host (committed bytecode, placeholder secrets): a deploy must leave them. */
  ownedByHost: readonly TreeFile[];
  /** What a deploy puts on the host: the repository without the paths Home Assistant owns there. */
  deployed: readonly TreeEntry[];
  /** Host paths a deploy must never write or delete (protected), and those add-ons write beside the repository's files (unmanaged). */
  protectedOnHost: readonly string[];
  unmanagedOnHost: readonly string[];
  /** Paths with spaces, unicode, quotes, brackets, a leading dash or dots. */
  oddNames: readonly string[];
  /** The bytes of one file of the repository or the host. */
  contentOf(file: TreeFile | HostFile): Buffer;
  /** Writes the repository's files into `dir` (a git work tree or any folder). */
  writeRepository(dir: string): Promise<WriteReport>;
  /** Writes Home Assistant's own files into a host config folder. */
  writeHostState(configRoot: string): Promise<WriteReport>;
  /**
   * Second commits: one automation edited in the UI; `count` files rewritten; the smallest folder
   * of at least `minFiles` removed (among the direct subfolders of `within`, when given).
   */
  oneAutomationChanged(round?: number): RealHouseChange;
  filesChanged(count: number, round?: number): RealHouseChange;
  folderRemoved(minFiles: number, within?: string): RealHouseChange;
  /** Applies a change to a work tree written by writeRepository. */
  writeChange(dir: string, change: RealHouseChange): Promise<WriteReport>;
}

export const DEFAULT_REAL_HOUSE_SEED = 'real-house';

export function buildRealHouse(options: RealHouseOptions): RealHouseTree {
  const seed = options.seed ?? DEFAULT_REAL_HOUSE_SEED;
  const { repo, host, facts } = planHouse(options.files, options.totalBytes, seed, { absoluteLinks: options.absoluteLinks ?? true });
  const bytesOf = (file: TreeFile | HostFile): Buffer => contentOf({ path: file.path, content: file.content, size: file.size, variant: 'variant' in file ? file.variant : 0 }, seed, facts);
  const writable = (entry: TreeEntry): Writable => (entry.kind === 'symlink' ? entry : { path: entry.path, kind: entry.kind, bytes: () => bytesOf(entry) });
  const files = repo.filter((e): e is TreeFile => e.kind !== 'symlink');
  const links = repo.filter((e): e is TreeLink => e.kind === 'symlink');
  const sum = (list: readonly { size: number }[]) => list.reduce((total, f) => total + f.size, 0);

  return {
    size: { files: options.files, totalBytes: options.totalBytes },
    seed,
    repo,
    host,
    facts,
    repoBytes: sum(files),
    hostBytes: sum(host),
    files,
    executables: files.filter((f) => f.kind === 'executable'),
    links,
    absoluteLinks: links.filter((l) => l.absolute),
    ownedByHost: files.filter((f) => f.ownedByHost !== undefined),
    deployed: repo.filter((e) => e.kind === 'symlink' || e.ownedByHost === undefined),
    protectedOnHost: host.filter((h) => h.ownership === 'protected').map((h) => h.path),
    unmanagedOnHost: host.filter((h) => h.ownership === 'unmanaged').map((h) => h.path),
    oddNames: ODD_NAMES.map((d) => d.path),
    contentOf: bytesOf,
    writeRepository: (dir) => writeItems(dir, repo.map(writable)),
    writeHostState: (configRoot) => writeItems(configRoot, host.map((h) => ({ path: h.path, kind: 'file' as const, bytes: () => bytesOf(h) })), { replace: true }),
    oneAutomationChanged: (round = 1) => oneAutomationChanged(repo, round, (file) => bytesOf(file).length),
    filesChanged: (count, round = 1) => filesChanged(repo, count, round),
    folderRemoved: (minFiles, within) => folderRemoved(repo, minFiles, within),
    async writeChange(dir, change) {
      await removePaths(dir, change.removes);
      return writeItems(dir, change.writes.map(writable), { replace: true });
    },
  };
}
