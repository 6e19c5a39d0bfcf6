/**
 * docs/architecture.md#where-things-live is the map of the rooms: it must name every folder of the rooms whose
 * layout it describes, and every path it names must exist.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
/** Every folder under these (themselves included) must be on the map. */
const MAPPED_ROOTS = ['functions', 'lib', 'local', 'ops', 'test/support'];
/** A backticked name starting with one of these is a repository path, and must exist. */
const TOP_LEVEL = ['functions', 'lib', 'local', 'ops', 'scripts', 'bench', 'test', 'docs'];

function foldersUnder(relative: string): string[] {
  const children = readdirSync(path.join(ROOT, relative), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => `${relative}/${entry.name}`);
  return [relative, ...children.flatMap(foldersUnder)];
}

function whereThingsLive(): string {
  const doc = readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8');
  const start = doc.indexOf('\n## Where things live\n');
  const end = doc.indexOf('\n## ', start + 1);
  if (start < 0) throw new Error('docs/architecture.md has no "## Where things live" section');
  return doc.slice(start, end < 0 ? undefined : end);
}

/** `lib/backfill`, `local/` and `functions/webhook.ts` are paths; `npm start` and `sync-rules.ts` are not. */
const namedPaths = (section: string): string[] =>
  [...section.matchAll(/`([^`\s]+)`/g)]
    .map((match) => (match[1] as string).replace(/\/$/, ''))
    .filter((name) => TOP_LEVEL.includes(name.split('/')[0] as string) && /^[\w./-]+$/.test(name));

describe('docs/architecture.md#where-things-live', () => {
  const named = new Set(namedPaths(whereThingsLive()));

  it.each(MAPPED_ROOTS.flatMap(foldersUnder))('names the folder %s', (folder) => {
    expect(named).toContain(folder);
  });

  it('names only paths that exist', () => {
    const missing = [...named].filter((name) => !existsSync(path.join(ROOT, name)));
    expect(missing).toEqual([]);
  });
});
