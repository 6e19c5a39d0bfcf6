/**
 * Code comments cite the repository's docs (docs/<file>.md#<heading>) rather than documents outside the
 * repository: every citation must land on a heading that exists, and nothing may point outside.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const CODE_ROOMS = ['functions', 'lib', 'local', 'ops', 'scripts', 'bench', 'test'];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : full.endsWith('.ts') ? [full] : [];
  });
}

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');

function anchorsOf(doc: string): Set<string> {
  const text = readFileSync(path.join(ROOT, doc), 'utf8');
  return new Set(
    text
      .split('\n')
      .filter((line) => /^#{1,6} /.test(line))
      .map((line) => anchorOf(line.replace(/^#+ /, ''))),
  );
}

const sources = [...CODE_ROOMS.flatMap((room) => filesUnder(path.join(ROOT, room))), path.join(ROOT, 'serverless.yml')];
const citations = sources.flatMap((file) =>
  [...readFileSync(file, 'utf8').matchAll(/docs\/([a-z-]+\.md)(?:#([a-z0-9-]+))?/g)].map((match) => ({
    at: path.relative(ROOT, file),
    doc: `docs/${match[1]}`,
    anchor: match[2],
  })),
);

describe('citations in the code', () => {
  it('cite docs that exist, at headings that exist', () => {
    const broken = citations.filter(({ doc, anchor }) => {
      try {
        return anchor !== undefined && !anchorsOf(doc).has(anchor);
      } catch {
        return true; // no such document
      }
    });
    expect(citations.length).toBeGreaterThan(0);
    expect(broken).toEqual([]);
  });

  it('never point at documents outside the repository', () => {
    const outside = sources.filter(
      (file) => /\.\.\/shared|shared\/docs/.test(readFileSync(file, 'utf8')) && !file.endsWith('citations.test.ts'),
    );
    expect(outside.map((file) => path.relative(ROOT, file))).toEqual([]);
  });
});
