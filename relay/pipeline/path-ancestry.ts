// The folders above a relative path, outermost first: `a/b/c.yaml` → `a`, `a/b`. The planner,
// the commit checks and the restore rules ask this of every path of a 15,000-file house, so it
// slices the path once per folder instead of splitting and joining it again for each.
export function folderAncestors(path: string): string[] {
  const out: string[] = [];
  for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) out.push(path.slice(0, slash));
  return out;
}
