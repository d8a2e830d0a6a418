/**
 * The README and the docs a newcomer reads first: the commands the README gives are the ones CI
 * runs, its deploy snippets match what the stack prints, and every relative link in the project's
 * Markdown lands on a file and heading that exist.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { PROJECT_ROOT } from '../../lib/bundling.js';
import { ROUTES } from '../../lambda/shared/routes.js';

const read = (file: string) => readFileSync(join(PROJECT_ROOT, file), 'utf8');

/** The fenced code blocks of a Markdown file. */
const codeBlocks = (markdown: string) =>
  [...markdown.matchAll(/^```\w*\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);

/** The project's Markdown files: the top level and doc/, recursively. */
function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(PROJECT_ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? walk(join(dir, entry.name))
        : entry.name.endsWith('.md')
          ? [join(dir, entry.name)]
          : [],
    );
  return [...readdirSync(PROJECT_ROOT).filter((f) => f.endsWith('.md')), ...walk('doc')];
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchors(markdown: string): Set<string> {
  const withoutCode = markdown.replace(/^```[\s\S]*?^```$/gm, '');
  return new Set(
    [...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replaceAll(' ', '-'),
    ),
  );
}

/** The options of an `aws cognito-idp admin-create-user` command. */
const createUserOptions = (text: string) => {
  const command = /aws cognito-idp admin-create-user[\s\S]*?--desired-delivery-mediums/.exec(text)?.[0] ?? '';
  return [...command.matchAll(/--[a-z-]+/g)].map((m) => m[0]);
};

describe('README.md', () => {
  const readme = read('README.md');

  it('gives the two commands, and its test command is the one CI runs', () => {
    const blocks = codeBlocks(readme).map((b) => b.split('#')[0]!.trim());
    expect(blocks).toContain('npm ci && npm start');
    expect(blocks).toContain('npm ci && npm test');
    expect(read('.ci/run')).toMatch(/^npm ci\b.*\nnpm test$/m);
  });

  it('fits in a few screens', () => {
    expect(Buffer.byteLength(readme)).toBeLessThan(16_000);
    expect(readme.split('\n').filter((line) => line.startsWith('|'))).toEqual([]);
  });

  it.each(['README.md', 'doc/deploy.md'])(
    "%s creates the first user with the options of the stack's CreateFirstUser output, --region included",
    (file) => {
      const stackOutput = createUserOptions(read('lib/mcp-oauth-stack.ts'));
      expect(stackOutput).toContain('--region');
      expect(createUserOptions(read(file))).toEqual(stackOutput);
    },
  );

  it('does not say that plain npx cdk deploy does what npm run deploy does', () => {
    for (const file of ['README.md', 'doc/deploy.md']) {
      const text = read(file).replace(/\s+/g, ' ');
      expect(text).not.toMatch(/npx cdk deploy`? does the same/);
      expect(text).toMatch(/plain `npx cdk deploy`[^.]*(skips|none of)/i);
    }
  });
});

describe('doc/reference/endpoints.md', () => {
  const reference = read('doc/reference/endpoints.md');

  it('lists every route the stack and the local server serve', () => {
    // `/x[/mcp]` stands for both `/x` and `/x/mcp`.
    const listed = (path: string) =>
      [`${path}\``, `${path}[/mcp]\``, `${path.replace(/\/mcp$/, '[/mcp]')}\``].some((form) =>
        reference.includes(form),
      );
    expect(ROUTES.map((route) => route.path).filter((path) => !listed(path))).toEqual([]);
  });

  it('lists every output of the stack', () => {
    const sources = (dir: string): string[] =>
      readdirSync(join(PROJECT_ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory()
          ? sources(join(dir, entry.name))
          : entry.name.endsWith('.ts')
            ? [join(dir, entry.name)]
            : [],
      );
    const outputs = sources('lib').flatMap((file) =>
      [...read(file).matchAll(/new CfnOutput\(this, '(\w+)'/g)].map((m) => m[1]!),
    );
    expect(outputs.length).toBeGreaterThan(20);
    expect(outputs.filter((name) => !reference.includes(`\`${name}\``))).toEqual([]);
  });
});

describe('Markdown links', () => {
  it('land on files and headings that exist', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      const text = read(file).replace(/^```[\s\S]*?^```$/gm, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue; // https:, mailto:
        const [path, anchor] = target!.split('#');
        const resolved = path ? join(dirname(file), path) : file;
        if (!existsSync(join(PROJECT_ROOT, resolved))) {
          broken.push(`${file}: ${target} (no file ${relative('.', resolved)})`);
        } else if (anchor && resolved.endsWith('.md') && !anchors(read(resolved)).has(anchor)) {
          broken.push(`${file}: ${target} (no heading #${anchor} in ${resolved})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});
