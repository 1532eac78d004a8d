// Every link of the README and the docs leads somewhere: a page moved or renamed, a heading
// reworded, a test file split, and `npm test` says which link broke, where, and what to do.
// Nothing here touches the network: links with a scheme are not followed.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { checkLinks, githubSlugger, headingAnchors, markdownLinks } from './markdown-links.ts';

const ROOT = resolve(import.meta.dirname, '../..');

async function docsFiles(): Promise<string[]> {
  const pages = (await readdir(join(ROOT, 'docs'))).filter((name) => name.endsWith('.md')).sort();
  return ['README.md', 'BENCHMARKS.md', ...pages.map((name) => `docs/${name}`)];
}

describe('the links of README.md, BENCHMARKS.md and docs/*.md', () => {
  it('each names a file that exists in the repository, and each #anchor a heading of its page', async () => {
    const files = await docsFiles();
    const { checked, problems } = await checkLinks(ROOT, files);
    expect(problems.map((p) => `${p.file}:${p.line}: ${p.link} ${p.problem}`)).toEqual([]);
    // The docs link their claims to tests by the hundred: a reader that found few would be broken.
    expect(checked).toBeGreaterThan(200);
  });

  it('reach every reference page from the README in one click', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = markdownLinks(await readFile(join(ROOT, 'README.md'), 'utf8')).map((l) => l.target.split('#')[0]);
    const pages = (await docsFiles()).filter((f) => f.startsWith('docs/') || f === 'BENCHMARKS.md');
    expect(pages.filter((page) => !readme.includes(page))).toEqual([]);
  });
});

describe('anchors as GitHub makes them', () => {
  it('follow github-slugger\'s published examples', () => {
    const slugger = githubSlugger();
    const examples: [string, string][] = [
      ['foo', 'foo'],
      ['foo', 'foo-1'],
      ['bar', 'bar'],
      ['foo', 'foo-2'],
      ['Привет non-latin 你好', 'привет-non-latin-你好'],
      ['😄 emoji', '-emoji'],
      ['echo', 'echo'],
      ['echo', 'echo-1'],
      ['echo 1', 'echo-1-1'],
      ['echo-1', 'echo-1-2'],
      ['echo', 'echo-2'],
      ['heading with a - dash', 'heading-with-a---dash'],
      ['heading with an _ underscore', 'heading-with-an-_-underscore'],
      ['exchange.bind_headers(exchange, routing [, bindCallback])', 'exchangebind_headersexchange-routing--bindcallback'],
      ['apostrophe’s should be trimmed', 'apostrophes-should-be-trimmed'],
      ['I ♥ unicode', 'i--unicode'],
      ['en–dash', 'endash'],
      [':ok_hand: Single', 'ok_hand-single'],
    ];
    expect(examples.map(([text]) => slugger(text))).toEqual(examples.map(([, anchor]) => anchor));
  });

  it('come from the rendered text of a heading: code kept, markup and links dropped', () => {
    const anchors = headingAnchors(
      [
        '# Webhook intake — `POST /webhooks/github`',
        '## `lanyard.yaml` (optional, in the repository)',
        '### Relay: `relay.yaml`',
        '## See [the edge](edge.md) **now**',
        'A setext heading',
        '---',
        '```sh',
        '# not a heading, a shell comment',
        '```',
      ].join('\n'),
    );
    expect([...anchors]).toEqual(['webhook-intake--post-webhooksgithub', 'lanyardyaml-optional-in-the-repository', 'relay-relayyaml', 'see-the-edge-now', 'a-setext-heading']);
  });
});

describe('the checker', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function repository(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'lanyard-links-'));
    dirs.push(dir);
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(dir, path, '..'), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    return dir;
  }

  it('names a missing file, a missing anchor and a link out of the repository, each with its file and line', async () => {
    const dir = await repository({
      'README.md': ['# Front', '', 'See [the edge](docs/edge.md#intake) and [gone](docs/gone.md).', '', '[out](../../etc/passwd)'].join('\n'),
      'docs/edge.md': '# The edge\n\n## Intake\n\nBack to [the front](../README.md#front), [a test](../test/a.test.ts#L3) and [nowhere](#queue).\n',
      'test/a.test.ts': '',
    });
    const { checked, problems } = await checkLinks(dir, ['README.md', 'docs/edge.md']);
    expect(checked).toBe(6);
    expect(problems.map(({ file, line, link }) => `${file}:${line} ${link}`)).toEqual(['README.md:3 docs/gone.md', 'README.md:5 ../../etc/passwd', 'docs/edge.md:5 #queue']);
    expect(problems.map((p) => p.problem)).toEqual([
      'names docs/gone.md, which does not exist: fix the path, or restore the file',
      expect.stringMatching(/^leads outside the repository \(to .*\): link to a file in it, or to a web address$/),
      'asks for #queue, but no heading of docs/edge.md makes that anchor: fix the anchor, or the heading it meant',
    ]);
  });

  it('leaves links in code and links with a scheme alone, and fetches nothing', async () => {
    const dir = await repository({
      'README.md': ['`[not a link](missing.md)`', '', '```md', '[not a link either](missing.md)', '```', '', '[web](https://example.invalid/x.md) [mail](mailto:a@example.invalid)'].join('\n'),
    });
    expect(await checkLinks(dir, ['README.md'])).toEqual({ checked: 0, problems: [] });
  });

  it('never throws on any Markdown, and every problem it names is on a line of its file (generated)', async () => {
    const dir = await repository({ 'docs/page.md': '# Page\n' });
    const piece = fc.constantFrom('[a](', '](', ')', '[', ']', '#', '# ', '`', '```', '\n', ' ', 'page.md', '../', '%', '%zz', '<', '>', 'x', '\\', '![i](', '[r]: ', 'https://x');
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 40 }), async (pieces) => {
        const text = pieces.join('');
        await writeFile(join(dir, 'docs/other.md'), text);
        const { problems } = await checkLinks(dir, ['docs/other.md']);
        const lines = text.split('\n').length;
        for (const p of problems) expect(p.line >= 1 && p.line <= lines, `${p.line} of ${lines}`).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
