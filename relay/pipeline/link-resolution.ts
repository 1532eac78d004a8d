// Where a symlink really leads once a deploy (or a restore) has landed, decided the way the kernel
// will follow it: through the links of the incoming tree and of the host, at every depth, link by
// link and component by component. A lexical look at the target alone is not enough: with
// `p/q/y -> ../../t`, the link `www/x -> ../p/q/y/../.storage` reads as `p/q/.storage` but the
// kernel reaches `.storage`. A link is refused when the walk leaves the config folder at any point,
// passes through or ends at a protected path, ends at the config folder itself, ends at a folder
// that holds a protected path or a link that does, or needs more than 40 links (ELOOP).
import { PathRefused } from './path-safety.ts';
import type { ProtectionMatch } from './protected-paths.ts';

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
}

function trimTrailingSlashes(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/**
 * The config-relative path an absolute link target names, or null when it is not under
 * `configRoot` (the folder as the host sees it, e.g. `/config`). The part after the root is kept as
 * written, `..` included, so the walk follows it through links as the kernel would. The one place
 * that maps host paths onto the config folder: a later mapping of `/config/...` onto another root
 * belongs here.
 */
export function configRelativeTarget(target: string, configRoot: string): string | null {
  const rootParts = trimTrailingSlashes(configRoot).split('/').filter((part) => part !== '' && part !== '.');
  const parts = target.split('/').filter((part) => part !== '' && part !== '.');
  if (rootParts.includes('..')) return null;
  for (let i = 0; i < rootParts.length; i++) if (parts[i] !== rootParts[i]) return null;
  return parts.slice(rootParts.length).join('/');
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
export function resolveLink(tree: LinkTree, path: string, configRoot: string, protection: Protection): LinkResolution {
  const root = trimTrailingSlashes(configRoot);
  const first = tree.links.get(path);
  if (first === undefined) return { ok: true, resolved: path, through: [] };
  const through: string[] = [];
  let current = path.split('/').slice(0, -1);
  let pending: string[] = [];
  let hops = 0;

  const follow = (target: string): LinkResolution | null => {
    if (target.startsWith('/')) {
      const inside = configRelativeTarget(target, root);
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
function exposedUnder(folder: string, tree: LinkTree, known: readonly string[], configRoot: string, protection: Protection, cache: Map<string, LinkResolution>): string | null {
  const seen = new Set<string>();
  const queue = [folder];
  while (queue.length) {
    const next = queue.shift()!;
    if (seen.has(next)) continue;
    seen.add(next);
    const prefix = `${next}/`;
    const guarded = known.find((path) => path.startsWith(prefix) && protection(path));
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

/** The sentence that closes every refusal: what the owner can do about it. */
function remedy(link: string): string {
  const quoted = JSON.stringify(link);
  return `commit a link that stays inside the config folder and away from protected data, or leave it out of the deploy with deploy.exclude: [${quoted}] in the relay config or exclude: [${quoted}] in lanyard.yaml`;
}

/** Judges one link in `tree`; null when the kernel would keep it inside and away from protected data. */
export function linkRefusal(
  tree: LinkTree,
  path: string,
  configRoot: string,
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
 * can do. Null when the link is safe.
 */
export function refuseUnsafeLink(
  tree: LinkTree,
  path: string,
  configRoot: string,
  protection: Protection,
  known: readonly string[],
  cache?: Map<string, LinkResolution>,
): PathRefused | null {
  const target = tree.links.get(path);
  if (target === undefined) return null;
  const refusal = linkRefusal(tree, path, configRoot, protection, known, cache);
  if (!refusal) return null;
  return new PathRefused(path, refusal.problem, `${path} is a symlink to ${target}, which ${refusal.why}; ${remedy(path)}`, target);
}
