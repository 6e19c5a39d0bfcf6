import type { ProblemLog } from '../../../lib/config/env-reader';
import { entryFields, jsonProblem, parseEntries, parseJsonArray } from '../../../lib/config/json-list';

/** Records each problem as the text the reader would list. */
const problemLog = (): ProblemLog & { problems: string[] } => {
  const problems: string[] = [];
  return { problems, problem: (name, message) => problems.push(`${name} ${message}`) };
};
const ID = /^[a-z]+$/;
const KNOWN = ['id', 'name', 'limit'];

describe('jsonProblem', () => {
  it('says where the JSON breaks, never quoting it', () => {
    let error: unknown;
    try {
      JSON.parse('{"secret": "s3cr3t" x}');
    } catch (failure) {
      error = failure;
    }
    expect(jsonProblem(error)).toMatch(/^is not valid JSON( \(error at character \d+\))?$/);
    expect(jsonProblem(new SyntaxError('Unexpected end of JSON input'))).toBe('is not valid JSON');
  });
});

describe('parseJsonArray', () => {
  it('answers the entries of a non-empty array', () => {
    const log = problemLog();
    expect(parseJsonArray('[{"id": "a"}, 2]', 'LIST', '[…]', log)).toEqual([{ id: 'a' }, 2]);
    expect(log.problems).toEqual([]);
  });

  it.each([['{}'], ['[]'], ['"a"']])('refuses %s with the example', (raw) => {
    const log = problemLog();
    expect(parseJsonArray(raw, 'LIST', '[{"id": "a"}]', log)).toEqual([]);
    expect(log.problems).toEqual(['LIST must be a JSON array of at least one entry, e.g. [{"id": "a"}]']);
  });

  it('refuses text that is not JSON', () => {
    const log = problemLog();
    expect(parseJsonArray('[{', 'LIST', '[…]', log)).toEqual([]);
    expect(log.problems).toEqual([expect.stringMatching(/^LIST is not valid JSON/)]);
  });
});

describe('entryFields', () => {
  it('reads text (trimmed) and integers, falling back when an optional field is absent', () => {
    const log = problemLog();
    const fields = entryFields({ id: 'a', name: ' A ', limit: 7 }, 'LIST[0]', KNOWN, ID, log);
    expect(fields?.id).toBe('a');
    expect(fields?.text('name', true)).toBe('A');
    expect(fields?.integer('limit', 1, 1, 10)).toBe(7);
    expect(entryFields({ id: 'b' }, 'LIST[1]', KNOWN, ID, log)?.integer('limit', 5, 1, 10)).toBe(5);
    expect(log.problems).toEqual([]);
  });

  it('names each wrong field by entry and id, never its value', () => {
    const log = problemLog();
    const fields = entryFields({ id: 'a', name: ' ', limit: 11, typo: 'secret' }, 'LIST[0]', KNOWN, ID, log);
    fields?.text('name', true);
    fields?.text('absent', true);
    expect(fields?.text('optional', false)).toBeUndefined();
    expect(fields?.integer('limit', 3, 1, 10)).toBe(3);
    expect(log.problems).toEqual([
      'LIST[0] (id "a"): typo is not a known field (known: id, name, limit)',
      'LIST[0] (id "a"): name must be a non-empty string',
      'LIST[0] (id "a"): absent is missing',
      'LIST[0] (id "a"): limit must be an integer from 1 to 10',
    ]);
  });

  it('refuses an entry that is no object or has no valid id', () => {
    const log = problemLog();
    expect(entryFields(['a'], 'LIST[0]', KNOWN, ID, log)).toBeUndefined();
    expect(entryFields({ name: 'x' }, 'LIST[1]', KNOWN, ID, log)).toBeUndefined();
    expect(entryFields({ id: 'A!' }, 'LIST[2]', KNOWN, ID, log)).toBeUndefined();
    expect(log.problems).toEqual([
      'LIST[0] must be an object',
      'LIST[1]: id is missing',
      'LIST[2]: id must match /^[a-z]+$/ (a short URL-safe name)',
    ]);
  });
});

describe('parseEntries', () => {
  const parseIds = (raw: string, log: ProblemLog) =>
    parseEntries(raw, 'LIST', '[…]', log, (entry, at) => {
      const fields = entryFields(entry, at, KNOWN, ID, log);
      return fields === undefined ? undefined : { id: fields.id };
    });

  it('keeps the valid entries in order and names every repeated id', () => {
    const log = problemLog();
    expect(parseIds('[{"id": "a"}, {"id": "B"}, {"id": "b"}, {"id": "a"}]', log)).toEqual([
      { id: 'a' },
      { id: 'b' },
      { id: 'a' },
    ]);
    expect(log.problems).toEqual([
      'LIST[1]: id must match /^[a-z]+$/ (a short URL-safe name)',
      'LIST[3] (id "a"): id is a duplicate: each entry needs its own id',
    ]);
  });
});
