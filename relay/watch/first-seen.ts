// When the drift watch first saw each file differ, for the report's `since`. Kept in memory only:
// a relay restarted reports `since` from its first look after the restart (the edge keeps its own
// first sighting if it needs an older one). A file that stops differing (a deploy overwrote it, or
// someone put it back) is forgotten, so drifting again later starts a new `since`; a file that
// changes further while it differs (edited again, or deleted after an edit) keeps its first one.
export class FirstSeen {
  private readonly since = new Map<string, number>();

  /** The `since` of each path differing now (the first time seen, or `now`); forgets the others. */
  update(paths: readonly string[], now: number): Map<string, number> {
    const current = new Map<string, number>();
    for (const path of paths) current.set(path, this.since.get(path) ?? now);
    this.since.clear();
    for (const [path, at] of current) this.since.set(path, at);
    return current;
  }
}
