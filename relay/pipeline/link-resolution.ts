// Where a symlink really leads once a deploy (or a restore) has landed, decided the way the kernel
// will follow it: through the links of the incoming tree and of the host, at every depth, link by
// link and component by component. A lexical look at the target alone is not enough: with
// `p/q/y -> ../../t`, the link `www/x -> ../p/q/y/../.storage` reads as `p/q/.storage` but the
// kernel reaches `.storage`. A link is refused when the walk leaves the config folder at any point,
// passes through or ends at a protected path, ends at the config folder itself, ends at a folder
// that holds a secret protected path (not bytecode: protected-paths.ts) or a link that is refused
// itself, or needs more than 40 links (ELOOP).
//
// An absolute target is read as Home Assistant reads it: `/config/x` is the config folder's `x`
// when Home Assistant sees the folder at `/config` inside its container, wherever the relay reaches
// it on the host (ConfigRoots). The link is deployed with its text unchanged; the host's own kernel
// may find nothing there, and the relay itself never follows a link on the host (live-tree.ts,
// archive-restore.ts list, hash and archive links as links).
import { posix } from 'node:path';
import { PathRefused } from './path-safety.ts';
import type { ProtectionMatch } from './protected-paths.ts';
import { globOfPath, type WayOut } from './way-out.ts';

/** As many links as Linux follows in one lookup before it answers ELOOP. */
export const MAX_LINK_HOPS = 40;

/** A file or a symlink of one side (the host's listing, a commit, an archive), relative to the config root. */
export interface TreeEntry {
  path: string;
  type: 'file' | 'symlink';
  linkTarget?: string | undefined;
}

type Protection = (path: string) => ProtectionMatch | null;

/** The config folder's links and files as they will be once `incoming` replaced the host's entries at its paths. */
export class LinkTree {
  readonly links = new Map<string, string>();
  readonly paths = new Set<string>();

  constructor(host: readonly TreeEntry[], incoming: readonly TreeEntry[] = []) {
    // The host's links elsewhere stay; at a path the incoming tree writes, its entry is what is there.
    for (const entry of [...host, ...incoming]) {
      this.paths.add(entry.path);
      if (entry.type === 'symlink' && entry.linkTarget !== undefined) this.links.set(entry.path, entry.linkTarget);
      else this.links.delete(entry.path);
    }
  }

  /** The same tree with the link at `path` pointing at `target` instead. */
  withLink(path: string, target: string): LinkTree {
    const copy = new LinkTree([]);
    for (const known of this.paths) copy.paths.add(known);
    for (const [link, to] of this.links) copy.links.set(link, to);
    copy.paths.add(path);
    copy.links.set(path, target);
    return copy;
  }
}

/**
 * Where the config folder is, as an absolute link target may name it: first the path the relay
 * reaches it at on the host (`host.configRoot`), then the paths Home Assistant and its add-ons see
 * it at inside their containers (`host.homeAssistantConfigPaths`, e.g. `/config`). A single
 * string is the host path alone.
 */
export type ConfigRoots = string | readonly string[];

/**
 * The paths public configurations write absolute links against: Home Assistant's own `/config`,
 * and `/homeassistant`, where add-ons see the folder since Supervisor 2023.11. Used only to offer
 * the relative link a refused one stands for, never to accept a link.
 */
const WELL_KNOWN_HOME_ASSISTANT_PATHS = ['/config', '/homeassistant'];

function trimTrailingSlashes(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

function rootsOf(roots: ConfigRoots): string[] {
  return [...new Set((typeof roots === 'string' ? [roots] : roots).map(trimTrailingSlashes))];
}

/** The config folder in messages: `/srv/homeassistant/config (/config inside Home Assistant's containers)`. */
function folderName(roots: ConfigRoots): string {
  const [host, ...seen] = rootsOf(roots);
  const others = seen.filter((path) => path !== host);
  return others.length ? `${host} (${others.join(' or ')} inside Home Assistant's containers)` : `${host}`;
}

function partsOf(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

/**
 * The config-relative path an absolute link target names, or null when it is under none of
 * `roots` (the folder as the host and Home Assistant see it: `/srv/homeassistant/config`,
 * `/config`). The longest root that matches wins. The part after the root is kept as written,
 * `..` included, so the walk follows it through links as the kernel would. The one place that maps
 * absolute targets onto the config folder.
 */
export function configRelativeTarget(target: string, roots: ConfigRoots): string | null {
  const parts = partsOf(target);
  let best: number | null = null;
  for (const root of rootsOf(roots)) {
    const rootParts = partsOf(root);
    if (rootParts.includes('..')) continue;
    if (rootParts.every((part, i) => parts[i] === part) && (best === null || rootParts.length > best)) best = rootParts.length;
  }
  return best === null ? null : parts.slice(best).join('/');
}

/** Why a link cannot be kept, in the terms of PathProblem. */
export type LinkProblem = 'symlink-escapes' | 'symlink-to-root' | 'symlink-to-protected' | 'symlink-loop';

export type LinkResolution =
  | { ok: true; resolved: string; through: string[] }
  | {
      ok: false;
      problem: LinkProblem;
      /** Where the walk was when it stopped: the protected point, the last point inside, or the root. */
      at: string | null;
      /** What makes it unsafe, in a phrase that follows "the link …". */
      why: string;
      through: string[];
    };

/** `a → b` for each link the walk followed after the first one. */
function hop(path: string, target: string): string {
  return `${path} → ${target}`;
}

/**
 * Follows the link at `path` as the kernel would, in `tree`. Every point the walk reaches (after
 * each component, once links are replaced by their targets) must stay inside the config folder
 * and must not be protected.
 */
export function resolveLink(tree: LinkTree, path: string, configRoot: ConfigRoots, protection: Protection): LinkResolution {
  const root = folderName(configRoot);
  const first = tree.links.get(path);
  if (first === undefined) return { ok: true, resolved: path, through: [] };
  const through: string[] = [];
  let current = path.split('/').slice(0, -1);
  let pending: string[] = [];
  let hops = 0;

  const follow = (target: string): LinkResolution | null => {
    if (target.startsWith('/')) {
      const inside = configRelativeTarget(target, configRoot);
      if (inside === null) return { ok: false, problem: 'symlink-escapes', at: null, why: `points outside the config folder ${root}${through.length ? ` (at ${target})` : ''}`, through };
      current = [];
      pending = [...inside.split('/'), ...pending];
    } else {
      pending = [...target.split('/'), ...pending];
    }
    return null;
  };

  const stopped = follow(first);
  if (stopped) return stopped;
  while (pending.length) {
    const component = pending.shift()!;
    if (component === '' || component === '.') continue;
    if (component === '..') {
      if (current.length === 0) return { ok: false, problem: 'symlink-escapes', at: null, why: `resolves outside the config folder ${root}`, through };
      current.pop();
      continue;
    }
    const point = [...current, component].join('/');
    const protectedBy = protection(point);
    if (protectedBy) {
      const why = pending.some((c) => c !== '' && c !== '.') ? `reaches ${point}, which is protected` : `resolves to ${point}, which is protected`;
      return { ok: false, problem: 'symlink-to-protected', at: point, why, through };
    }
    const target = tree.links.get(point);
    if (target !== undefined) {
      hops += 1;
      if (hops >= MAX_LINK_HOPS) return { ok: false, problem: 'symlink-loop', at: point, why: `does not resolve: it needs more than ${MAX_LINK_HOPS} links in a row (a loop)`, through };
      through.push(hop(point, target));
      const out = follow(target);
      if (out) return out;
      continue;
    }
    // A file or a missing name followed by more components cannot be walked by the kernel
    // (ENOTDIR, ENOENT); the walk goes on as if it were a folder, which is where it would lead
    // once one is made there, and keeps every point checked.
    current.push(component);
  }
  if (current.length === 0) return { ok: false, problem: 'symlink-to-root', at: '', why: 'resolves to the config folder itself, which would expose every file under it (secrets.yaml included)', through };
  return { ok: true, resolved: current.join('/'), through };
}

/**
 * What a link to the folder `folder` would expose: a protected path under it, or a link under it
 * that is unsafe itself; links under it that are safe lead to more folders, which are checked too.
 * `known` lists every path either side named (the host's listing and the incoming tree).
 */
function exposedUnder(folder: string, tree: LinkTree, known: readonly string[], configRoot: ConfigRoots, protection: Protection, cache: Map<string, LinkResolution>): string | null {
  const seen = new Set<string>();
  const queue = [folder];
  while (queue.length) {
    const next = queue.shift()!;
    if (seen.has(next)) continue;
    seen.add(next);
    const prefix = `${next}/`;
    // Only what a reader could learn from: a custom integration's folder holds its __pycache__/.
    const guarded = known.find((path) => path.startsWith(prefix) && protection(path)?.secret);
    if (guarded) return `${guarded}, which is protected`;
    for (const [link] of tree.links) {
      if (!link.startsWith(prefix)) continue;
      let resolution = cache.get(link);
      if (!resolution) cache.set(link, (resolution = resolveLink(tree, link, configRoot, protection)));
      if (!resolution.ok) return `the link ${link}, which ${resolution.why}`;
      queue.push(resolution.resolved);
    }
  }
  return null;
}

/**
 * The relative link an absolute one written against Home Assistant's view stands for, when that
 * relative link would be kept: `custom_components/x -> /config/custom_components/y` is
 * `custom_components/x -> y`. Null when the target is relative, names no config path, or the
 * relative link would be refused too (it reaches protected data, say).
 */
function relativeEquivalent(tree: LinkTree, path: string, target: string, configRoot: ConfigRoots, protection: Protection, known: readonly string[]): string | null {
  if (!target.startsWith('/')) return null;
  const inside = configRelativeTarget(target, [...rootsOf(configRoot), ...WELL_KNOWN_HOME_ASSISTANT_PATHS]);
  if (inside === null || inside === '') return null;
  const folder = posix.dirname(path);
  // Without "..", the shortest relative path leads to the same place: the link's own folders are
  // real folders (nothing is written beneath a link). With "..", it is kept as written, after
  // climbing back to the root, so the walk meets the same links in the same order.
  const relative = inside.split('/').includes('..') ? `${'../'.repeat(folder === '.' ? 0 : folder.split('/').length)}${inside}` : posix.relative(folder, inside);
  if (relative === '' || relative.startsWith('/')) return null;
  return linkRefusal(tree.withLink(path, relative), path, configRoot, protection, known) ? null : relative;
}

/** Judges one link in `tree`; null when the kernel would keep it inside and away from protected data. */
export function linkRefusal(
  tree: LinkTree,
  path: string,
  configRoot: ConfigRoots,
  protection: Protection,
  known: readonly string[],
  cache: Map<string, LinkResolution> = new Map(),
): { problem: LinkProblem; why: string; resolved: string | null } | null {
  let resolution = cache.get(path);
  if (!resolution) cache.set(path, (resolution = resolveLink(tree, path, configRoot, protection)));
  if (!resolution.ok) return { problem: resolution.problem, why: withChain(resolution.why, resolution.through), resolved: resolution.at };
  const exposed = exposedUnder(resolution.resolved, tree, known, configRoot, protection, cache);
  if (exposed) return { problem: 'symlink-to-protected', why: withChain(`resolves to ${resolution.resolved}, a folder that holds ${exposed}`, resolution.through), resolved: resolution.resolved };
  return null;
}

function withChain(why: string, through: readonly string[]): string {
  if (!through.length) return why;
  const shown = through.length > 3 ? [...through.slice(0, 3), `… ${through.length - 3} more`] : through;
  return `${why} (following ${shown.join(', ')})`;
}

/**
 * The refusal of a deploy's link, naming the link, its target, where it leads and what the owner
 * can do: commit the relative link it stands for, when there is one that would be kept, or leave
 * it out. Null when the link is safe.
 */
export function refuseUnsafeLink(
  tree: LinkTree,
  path: string,
  configRoot: ConfigRoots,
  protection: Protection,
  known: readonly string[],
  cache?: Map<string, LinkResolution>,
): PathRefused | null {
  const target = tree.links.get(path);
  if (target === undefined) return null;
  const refusal = linkRefusal(tree, path, configRoot, protection, known, cache);
  if (!refusal) return null;
  const relative = relativeEquivalent(tree, path, target, configRoot, protection, known);
  const wayOut: WayOut = relative ? { kind: 'relative-link', path, target: relative } : { kind: 'exclude', globs: [globOfPath(path)] };
  return new PathRefused(path, refusal.problem, `${path} is a symlink to ${target}, which ${refusal.why}`, wayOut, target);
}

/**
 * Refuses every unsafe link among the files to deploy: each refusal is added to `refused` and its
 * link taken out of `deploySet`. The walks of one call share their resolutions.
 */
export function refuseUnsafeLinks(
  tree: LinkTree,
  deploySet: Map<string, { readonly type: string }>,
  configRoot: ConfigRoots,
  protection: Protection,
  known: readonly string[],
  refused: PathRefused[],
): void {
  const resolutions = new Map<string, LinkResolution>();
  for (const [path, entry] of [...deploySet]) {
    if (entry.type !== 'symlink') continue;
    const refusal = refuseUnsafeLink(tree, path, configRoot, protection, known, resolutions);
    if (!refusal) continue;
    refused.push(refusal);
    deploySet.delete(path);
  }
}
