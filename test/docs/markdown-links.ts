// Reads the docs' Markdown as GitHub renders it, as far as links go: which headings make which
// anchors (github-slugger's rules, the ones github.com uses), and where each relative link and
// image points. The docs test checks every link with it, on disk and without any network, so a
// page moved, renamed or re-headed without its links fails `npm test`.
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** One link that does not lead where it says, with where it was written. */
export interface LinkProblem {
  /** The Markdown file, relative to the repository root. */
  file: string;
  line: number;
  link: string;
  problem: string;
}

export interface LinkReport {
  /** Relative links and images looked at (external ones are not counted: nothing is fetched). */
  checked: number;
  problems: LinkProblem[];
}

interface Link {
  line: number;
  target: string;
}

// github-slugger removes these general categories (all but `-` and ` `, and any letter-like symbol):
// other numbers, punctuation other than connectors, symbols, controls, formats, private use,
// unassigned, separators.
const REMOVED = /[\p{No}\p{Pd}\p{Ps}\p{Pe}\p{Pi}\p{Pf}\p{Po}\p{S}\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Z}]/gu;
const ALPHABETIC = /\p{Alphabetic}/u;

/** The anchor GitHub makes of a heading's plain text, before duplicates are numbered. */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(REMOVED, (c) => (c === ' ' || c === '-' || ALPHABETIC.test(c) ? c : ''))
    .replace(/ /g, '-');
}

/** A slugger for one document: the second heading of the same text gets `-1`, as on GitHub. */
export function githubSlugger(): (text: string) => string {
  const occurrences = new Map<string, number>();
  return (text) => {
    const base = slug(text);
    let result = base;
    while (occurrences.has(result)) {
      const n = occurrences.get(base)! + 1;
      occurrences.set(base, n);
      result = `${base}-${n}`;
    }
    occurrences.set(result, 0);
    return result;
  };
}

const FENCE = /^\s*(`{3,}|~{3,})/;

/** The lines of a document with fenced code blanked out, so nothing in code counts as a heading or a link. */
function proseLines(markdown: string): string[] {
  const lines = markdown.split(/\r?\n/);
  let fence: string | null = null;
  return lines.map((line) => {
    const open = FENCE.exec(line)?.[1];
    if (fence === null) {
      if (open) {
        fence = open;
        return '';
      }
      return line;
    }
    if (open && open[0] === fence[0] && open.length >= fence.length && line.trim() === open) fence = null;
    return '';
  });
}

/** Code spans turned into filler of the same length: offsets stay, and a `[x](y)` in code is no link. */
function withoutCodeSpans(text: string): string {
  return text.replace(/(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g, (span) => span.replace(/[^\n]/g, 'x'));
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** A heading's text as GitHub renders it: markup gone, code kept as its text. */
function plainText(heading: string): string {
  return heading
    .split(/(`+)(?!`)([\s\S]*?[^`])\1(?!`)/)
    .map((part, i) => {
      if (i % 3 === 2) return part.trim();
      if (i % 3 === 1) return '';
      return part
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
        .replace(/!?\[([^\]]*)\]\[[^\]]*\]/g, '$1')
        .replace(/<[^>]*>/g, '')
        .replace(/(?<![\p{L}\p{N}])_+|_+(?![\p{L}\p{N}])/gu, '')
        .replace(/\\([!-/:-@[-`{-~])/g, '$1')
        .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
          if (name[0] === '#') return String.fromCodePoint(name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10));
          return ENTITIES[name.toLowerCase()] ?? whole;
        });
    })
    .join('');
}

/** Every anchor a document offers: one per heading (ATX and setext), and explicit HTML ids and names. */
export function headingAnchors(markdown: string): Set<string> {
  const slugger = githubSlugger();
  const anchors = new Set<string>();
  const lines = proseLines(markdown);
  lines.forEach((line, i) => {
    const atx = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (atx) {
      anchors.add(slugger(plainText(atx[2] ?? '')));
      return;
    }
    const next = lines[i + 1];
    const paragraph = line.trim() !== '' && !/^\s*([-*+>|#]|\d+[.)])/.test(line);
    if (next !== undefined && paragraph && /^ {0,3}(=+|-+)[ \t]*$/.test(next)) anchors.add(slugger(plainText(line.trim())));
  });
  for (const m of markdown.matchAll(/<[a-z][^>]*\s(?:id|name)\s*=\s*"([^"]+)"/gi)) anchors.add(m[1]!);
  return anchors;
}

/** Every link and image target outside code, with the line it starts on. */
export function markdownLinks(markdown: string): Link[] {
  const text = withoutCodeSpans(proseLines(markdown).join('\n'));
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  const links: Link[] = [];
  const inline = /!?\[(?:[^[\]\\]|\\.|\[[^[\]]*\])*\]\(\s*(<[^>\n]*>|(?:[^\s()]|\([^\s()]*\))*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
  for (const m of text.matchAll(inline)) links.push({ line: lineOf(m.index), target: m[1]! });
  for (const m of text.matchAll(/^ {0,3}\[[^\]]+\]:[ \t]*(<[^>\n]*>|\S+)/gm)) links.push({ line: lineOf(m.index), target: m[1]! });
  for (const m of text.matchAll(/<(?:a|img)\s[^>]*?(?:href|src)\s*=\s*"([^"]*)"/gi)) links.push({ line: lineOf(m.index), target: m[1]! });
  return links.sort((a, b) => a.line - b.line);
}

/** A line anchor of a file GitHub shows as code: `#L10`, `#L10-L20`. */
const LINE_ANCHOR = /^L\d+(C\d+)?(-L\d+(C\d+)?)?$/;

/**
 * Checks every relative link of `files` (paths relative to `root`): the file or folder it names
 * exists inside the repository, and a `#anchor` is one its Markdown target makes. Links with a
 * scheme (`https:`, `mailto:`) are left alone: nothing here reaches the network.
 */
export async function checkLinks(root: string, files: readonly string[]): Promise<LinkReport> {
  const top = resolve(root);
  const anchorCache = new Map<string, Promise<Set<string>>>();
  const anchorsOf = (path: string) => {
    let anchors = anchorCache.get(path);
    if (!anchors) {
      anchors = readFile(path, 'utf8').then(headingAnchors);
      anchorCache.set(path, anchors);
    }
    return anchors;
  };
  const problems: LinkProblem[] = [];
  let checked = 0;
  for (const file of files) {
    const source = join(top, file);
    for (const { line, target: written } of markdownLinks(await readFile(source, 'utf8'))) {
      const target = written.replace(/^<|>$/g, '');
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
      checked++;
      const report = (problem: string) => problems.push({ file, line, link: written, problem });
      const hash = target.indexOf('#');
      const rawPath = hash === -1 ? target : target.slice(0, hash);
      const rawAnchor = hash === -1 ? null : target.slice(hash + 1);
      let path: string;
      let anchor: string | null;
      try {
        path = decodeURI(rawPath);
        anchor = rawAnchor === null ? null : decodeURIComponent(rawAnchor);
      } catch {
        report('is not a valid URL (a stray % sign?): write the path as it is on disk');
        continue;
      }
      if (path === '' && anchor === null) {
        report('is empty: give the file or the #anchor it should lead to');
        continue;
      }
      const absolute = path === '' ? source : path.startsWith('/') ? join(top, path) : resolve(dirname(source), path);
      const inRepo = relative(top, absolute);
      if (inRepo.startsWith(`..${sep}`) || inRepo === '..') {
        report(`leads outside the repository (to ${absolute}): link to a file in it, or to a web address`);
        continue;
      }
      const found = await stat(absolute).catch(() => null);
      if (!found) {
        report(`names ${inRepo || '.'}, which does not exist: fix the path, or restore the file`);
        continue;
      }
      if (anchor === null || anchor === '') continue;
      if (found.isFile() && /\.md$/i.test(absolute)) {
        if (!(await anchorsOf(absolute)).has(anchor)) {
          report(`asks for #${anchor}, but no heading of ${inRepo} makes that anchor: fix the anchor, or the heading it meant`);
        }
      } else if (!(found.isFile() && LINE_ANCHOR.test(anchor))) {
        report(`asks for #${anchor} in ${inRepo || '.'}, which has no headings: drop the anchor, or use #L<line> for a line of a file`);
      }
    }
  }
  return { checked, problems };
}
