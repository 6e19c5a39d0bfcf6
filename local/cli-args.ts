/**
 * The command line of every npm script (scripts/, bench/run.ts): `--help`, and one line for a mistaken option instead
 * of Node's ERR_PARSE_ARGS stack trace.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake the message explains in full (with the usage). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs, strict. `--help` prints the usage and exits 0; a mistaken option prints one line naming it, then the
 * usage, and exits 1 (Node's own error would be a stack trace).
 */
export function parseCli<O extends Options, P extends boolean = false>(
  usage: string,
  options: O,
  { allowPositionals, args = process.argv.slice(2) }: { allowPositionals?: P; args?: string[] } = {},
) {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  try {
    return parseArgs({ args, options, allowPositionals: (allowPositionals ?? false) as P, strict: true });
  } catch (error) {
    if (!String((error as { code?: string }).code).startsWith('ERR_PARSE_ARGS')) throw error;
    // Node's message ends with advice for programmers ("To specify a positional argument starting with…").
    const [problem] = (error as Error).message.split('. ');
    process.stderr.write(`${problem}.\n${usage}\n`);
    process.exit(1);
  }
}
