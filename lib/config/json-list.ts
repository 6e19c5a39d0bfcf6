/**
 * Settings that are lists of entries (LINE_CHANNELS, CAPILLARY_ORGS): a JSON array of objects with an
 * id each. Every problem names the entry (by id when it has one) and the field, never a value (values
 * are secrets).
 */
import type { ProblemLog } from './env-reader';

/** The position of a JSON syntax error, never the text around it (it may hold a secret). */
export function jsonProblem(error: unknown): string {
  const position = /position (\d+)/.exec((error as Error).message)?.[1];
  return position === undefined ? 'is not valid JSON' : `is not valid JSON (error at character ${position})`;
}

/** A non-empty JSON array, or [] with the problem recorded. */
export function parseJsonArray(raw: string, label: string, example: string, log: ProblemLog): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    log.problem(label, jsonProblem(error));
    return [];
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    log.problem(label, `must be a JSON array of at least one entry, e.g. ${example}`);
    return [];
  }
  return parsed;
}

export interface EntryFields {
  id: string;
  text(field: string, required: boolean): string | undefined;
  integer(field: string, fallback: number, min: number, max: number): number;
  problem(field: string, text: string): void;
}

/** Reads one entry's fields; undefined (problems recorded) when it is no object or has no valid id. */
export function entryFields(
  entry: unknown,
  at: string,
  known: readonly string[],
  idPattern: RegExp,
  log: ProblemLog,
): EntryFields | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    log.problem(at, 'must be an object');
    return undefined;
  }
  const fields = entry as Record<string, unknown>;
  const id = typeof fields.id === 'string' && idPattern.test(fields.id) ? fields.id : undefined;
  const where = id === undefined ? at : `${at} (id "${id}")`;
  const problem = (field: string, text: string) => log.problem(`${where}: ${field}`, text);
  if (id === undefined)
    problem('id', fields.id === undefined ? 'is missing' : `must match ${idPattern} (a short URL-safe name)`);
  for (const field of Object.keys(fields))
    if (!known.includes(field)) problem(field, `is not a known field (known: ${known.join(', ')})`);
  if (id === undefined) return undefined;
  return {
    id,
    problem,
    text(field, required) {
      const value = fields[field];
      if (value === undefined) {
        if (required) problem(field, 'is missing');
        return undefined;
      }
      if (typeof value !== 'string' || value.trim() === '') {
        problem(field, 'must be a non-empty string');
        return undefined;
      }
      return value.trim();
    },
    integer(field, fallback, min, max) {
      const value = fields[field];
      if (value === undefined) return fallback;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        problem(field, `must be an integer from ${min} to ${max}`);
        return fallback;
      }
      return value;
    },
  };
}

/** The entries in order, with a problem for every id seen before. */
export function parseEntries<T extends { id: string }>(
  raw: string,
  label: string,
  example: string,
  log: ProblemLog,
  parse: (entry: unknown, at: string) => T | undefined,
): T[] {
  const seen = new Set<string>();
  return parseJsonArray(raw, label, example, log).flatMap((entry, index) => {
    const parsed = parse(entry, `${label}[${index}]`);
    if (parsed === undefined) return [];
    if (seen.has(parsed.id))
      log.problem(`${label}[${index}] (id "${parsed.id}"): id`, 'is a duplicate: each entry needs its own id');
    seen.add(parsed.id);
    return [parsed];
  });
}
