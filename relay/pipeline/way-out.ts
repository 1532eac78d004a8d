// What the owner can do about a refused path, in one sentence that every refusal ends with, so a
// link, a name, a collision or a read-only folder all read alike: `<what is wrong>; fix: <what to
// do>`. Where a line of YAML is the fix, it is given exactly as it must be typed: the path turned
// into a glob that matches that path alone (picomatch's special characters escaped) and quoted for
// YAML, the same line for lanyard.yaml's `exclude:` and relay.yaml's `deploy.exclude`. The tests
// parse these lines back and deploy with them, as the owner would.

/** A refusal's fix: what the owner types, changes or runs. */
export type WayOut =
  /** Leave these paths out of the deploy: the `exclude` lines to add. */
  | { kind: 'exclude'; globs: readonly string[] }
  /** Commit this relative link instead of the refused one; or leave the link out. */
  | { kind: 'relative-link'; path: string; target: string }
  /** Rename the file in the repository; `to` is a name Lanyard deploys. */
  | { kind: 'rename'; to: string | null; why: string }
  /** Change something (the sentence says what: on the host, in the repository), or leave these paths out. */
  | { kind: 'change'; action: string; globs: readonly string[] }
  /** A tree git itself never writes: the commit must be made again. */
  | { kind: 'remake-commit' }
  /** A setting of the relay is wrong. */
  | { kind: 'setting'; action: string };

/**
 * Characters picomatch reads as glob syntax, escaped with a backslash to stand for themselves: a
 * double quote among them (picomatch reads `"a"/**` as a quoted "a"), and `$` and `^`, which reach
 * its regular expression unescaped in places (`$$?a` matched nothing). The property test in
 * test/relay/way-out.test.ts found both.
 */
const GLOB_SYNTAX = /[\\*?[\]{}()!+@|"$^]/g;
/**
 * Whitespace that `String.prototype.trim` (which every Lanyard glob goes through) would remove at
 * either end: kept as a one-character class there.
 */
const EDGE_SPACE = /^\s+|\s+$/g;

/**
 * A glob that matches the path itself and nothing else, as every Lanyard rule reads globs;
 * `folder` makes it match everything under the path instead (a trailing `/`).
 */
export function globOfPath(path: string, options: { folder?: boolean } = {}): string {
  const escaped = path.replace(GLOB_SYNTAX, '\\$&').replace(EDGE_SPACE, (spaces) => [...spaces].map((c) => `[${c}]`).join(''));
  return options.folder ? `${escaped}/` : escaped;
}

/** A YAML scalar holding `text` as it is: single-quoted, where only `'` needs doubling. */
export function yamlQuoted(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** The list item that adds `glob` to an `exclude:` list, exactly as it is typed. */
export function excludeLine(glob: string): string {
  return `- ${yamlQuoted(glob)}`;
}

function excludeSentence(globs: readonly string[]): string {
  const lines = globs.map((glob) => `\`${excludeLine(glob)}\``);
  const listed = lines.length <= 1 ? (lines[0] ?? '') : `${lines.slice(0, -1).join(', ')} and ${lines[lines.length - 1]}`;
  return `add ${listed} to \`exclude:\` in lanyard.yaml (or to \`deploy.exclude\` in relay.yaml) to leave ${globs.length === 1 ? 'it' : 'them'} out of the deploy`;
}

/** The sentence after "fix:". */
export function describeWayOut(wayOut: WayOut): string {
  switch (wayOut.kind) {
    case 'exclude':
      return excludeSentence(wayOut.globs);
    case 'relative-link':
      return `commit the relative link \`${wayOut.path} -> ${wayOut.target}\` instead, which leads to the same file, or ${excludeSentence([globOfPath(wayOut.path)])}`;
    case 'rename':
      return wayOut.to === null ? `rename it in the repository ${wayOut.why}` : `rename it in the repository ${wayOut.why}, e.g. to \`${wayOut.to}\``;
    case 'change':
      return wayOut.globs.length ? `${wayOut.action}, or ${excludeSentence(wayOut.globs)}` : wayOut.action;
    case 'remake-commit':
      return 'git never writes such a tree, so the commit was crafted or made by a broken tool: make it again with git itself (`git fsck` names the broken entry); nothing in this one is deployed';
    case 'setting':
      return wayOut.action;
    default: {
      const never: never = wayOut;
      return never;
    }
  }
}

/** `<problem>; fix: <what to do>`: the one shape of every refusal of a path. */
export function withWayOut(problem: string, wayOut: WayOut): string {
  return `${problem}; fix: ${describeWayOut(wayOut)}`;
}
