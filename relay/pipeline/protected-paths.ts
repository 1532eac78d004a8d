// The paths Lanyard never writes or deletes on the host, whatever the repository holds: Home
// Assistant's own state (its database, `.storage`, logs, the Nabu Casa link), the secrets, and the
// folders of other tools. A repository that contains one of them (a dummy `secrets.yaml` kept for
// CI, a committed `.storage/`) deploys without it and says so. The owner of the host may add globs
// (relay config `deploy.protect`, or `protect` in lanyard.yaml); nothing can remove a built-in one.
//
// Globs are matched against paths relative to the config root. Home Assistant keeps its state at
// the root, so most entries are anchored there; those that are dangerous wherever they appear
// (secrets, databases, logs, a `.git` folder) match at any depth.
import { globMatcher, normaliseGlob } from './path-safety.ts';

export interface ProtectedPath {
  /** How the docs and messages name it. */
  name: string;
  /** Globs (relative to the config root, matched with dotfiles included) that it covers. */
  globs: readonly string[];
  /** One line: why Lanyard must not touch it. */
  reason: string;
  /**
   * False for what Home Assistant owns but nobody could learn anything from (bytecode, installed
   * packages, its version): a link to a folder that holds one is kept, as a custom integration's
   * folder with its `__pycache__/` must be. A link to the path itself is refused all the same.
   */
  secret?: false;
}

export const PROTECTED_PATHS: readonly ProtectedPath[] = Object.freeze([
  {
    name: 'secrets.yaml (any folder)',
    globs: ['**/secrets.yaml'],
    reason: 'holds the real passwords and tokens; a repository copy is a placeholder at best (HA also reads secrets.yaml in subfolders, and so does ESPHome)',
  },
  { name: '.storage/', globs: ['.storage/**'], reason: 'Home Assistant\'s UI-managed state: integrations, devices, entities, users and auth tokens' },
  {
    name: '*.db, *.db-shm, *.db-wal, *.db.* (any folder)',
    globs: ['**/*.db', '**/*.db-*', '**/*.db.*'],
    reason: 'live databases (home-assistant_v2.db, zigbee.db) and their journals or corrupt copies; overwriting one loses history or corrupts it',
  },
  { name: '.cloud/', globs: ['.cloud/**'], reason: 'the Home Assistant Cloud (Nabu Casa) link and its keys' },
  { name: '.HA_VERSION', globs: ['.HA_VERSION'], reason: 'written by Home Assistant to run its upgrade migrations; a wrong value re-runs or skips them', secret: false },
  { name: '.uuid', globs: ['.uuid'], reason: 'the installation\'s identity' },
  {
    name: '*.log, *.log.1 (any folder)',
    globs: ['**/*.log', '**/*.log.*'],
    reason: 'logs written by Home Assistant and add-ons (rotated ones too); never configuration',
  },
  { name: 'ip_bans.yaml', globs: ['ip_bans.yaml'], reason: 'written by Home Assistant when it bans an address; a deploy must not lift bans' },
  { name: 'known_devices.yaml', globs: ['known_devices.yaml'], reason: 'written by legacy device trackers as they discover devices' },
  { name: 'deps/', globs: ['deps/**'], reason: 'Python packages Home Assistant installed for itself', secret: false },
  { name: 'tts/', globs: ['tts/**'], reason: 'the text-to-speech cache' },
  { name: 'backups/', globs: ['backups/**'], reason: 'Home Assistant\'s own backups' },
  { name: '.ha_run.lock', globs: ['.ha_run.lock'], reason: 'the lock of the running Home Assistant instance', secret: false },
  { name: '.git/ (any folder)', globs: ['**/.git/**'], reason: 'a git checkout on the host (some people pull there) is not Lanyard\'s to change' },
  { name: '.lanyard/', globs: ['.lanyard/**'], reason: 'Lanyard\'s own record on the host: the deployment manifest and the staging folder' },
  { name: '__pycache__/ (any folder)', globs: ['**/__pycache__/**'], reason: 'Python bytecode that Home Assistant generates for custom components', secret: false },
]);

/**
 * How a path came to be protected: a built-in entry's reason, or the user's glob. `secret`: whether
 * a link to a folder that holds it would expose something (the owner's globs always count).
 */
export type ProtectionMatch = { source: 'built-in'; name: string; reason: string; secret: boolean } | { source: 'configured'; glob: string; reason: string; secret: true };

// Built-in names match in any case. Home Assistant itself only reads `secrets.yaml` and `.storage/`,
// but a config folder on a case-insensitive filesystem (an SMB share from a NAS, exFAT, Docker
// Desktop's bind mounts on macOS and Windows) makes `Secrets.yaml` and `.STORAGE/auth` those very
// files, and no repository has a reason to hold a case-variant of Home Assistant's own state.
const builtIn = PROTECTED_PATHS.map((entry) => ({ entry, matches: globMatcher(entry.globs, { ignoreCase: true }) }));
// All of them as one matcher: a path that none covers (nearly every path of a commit) is answered by
// one test instead of one per entry; which entry covers it is asked only of the few that match.
const anyBuiltIn = globMatcher(PROTECTED_PATHS.flatMap((entry) => entry.globs), { ignoreCase: true });

/**
 * A function that says why a path is protected (null when it is not), built once for a set of
 * user globs: the planner asks it about thousands of paths.
 */
export function protectedPathMatcher(extra: readonly string[] = []): (path: string) => ProtectionMatch | null {
  const configured = extra.map((glob) => ({ glob, matches: globMatcher([glob]) }));
  const anyConfigured = globMatcher(extra);
  return (path) => {
    if (anyBuiltIn(path)) {
      for (const { entry, matches } of builtIn) {
        if (matches(path)) return { source: 'built-in', name: entry.name, reason: entry.reason, secret: entry.secret ?? true };
      }
    }
    if (!anyConfigured(path)) return null;
    for (const { glob, matches } of configured) {
      if (matches(path)) return { source: 'configured', glob: normaliseGlob(glob), reason: `protected by the configured glob ${normaliseGlob(glob)}`, secret: true };
    }
    return null;
  };
}

// One compiled matcher per distinct `extra`, so isProtected in a loop costs no recompilation.
const matcherCache = new Map<string, (path: string) => ProtectionMatch | null>();

function cachedMatcher(extra: readonly string[]): (path: string) => ProtectionMatch | null {
  const key = JSON.stringify(extra);
  let matcher = matcherCache.get(key);
  if (!matcher) {
    if (matcherCache.size > 32) matcherCache.clear();
    matcher = protectedPathMatcher(extra);
    matcherCache.set(key, matcher);
  }
  return matcher;
}

/** True when Lanyard must never write or delete `path` (relative to the config root). */
export function isProtected(path: string, extra: readonly string[] = []): boolean {
  return cachedMatcher(extra)(path) !== null;
}

/** Why `path` is protected, in a sentence for the user; null when it is not. */
export function whyProtected(path: string, extra: readonly string[] = []): string | null {
  return cachedMatcher(extra)(path)?.reason ?? null;
}
