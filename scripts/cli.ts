/**
 * What every script shares: `--help`, one line for a mistaken option (no ERR_PARSE_ARGS stack), one line for the
 * AWS SDK's Node warning, and errors as one line that names the fix (no pipeline running, no AWS credentials).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

import { quietOldNodeWarning } from '../local/node-support';

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

export const AWS_CREDENTIALS_HINT =
  "Set AWS credentials for the stage's account (AWS_PROFILE=…, or aws sso login); --stage local needs none.";
export const NO_PIPELINE_HINT = 'Is `npm start` running? The local stage needs it (another terminal).';

/** The error as one line (two with the fix): the SDK's and fetch's own words for a missing setup get their fix. */
export function describeError(error: unknown): string {
  const { name, message, cause } = error as Error & { cause?: Error & { code?: string }; code?: string };
  const code = (error as { code?: string }).code ?? cause?.code;
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message))
    return `${message}${cause?.message && cause.message !== message ? ` (${cause.message})` : ''}\n${NO_PIPELINE_HINT}`;
  if (name === 'CredentialsProviderError' || /Could not load credentials/.test(message))
    return `${message}\n${AWS_CREDENTIALS_HINT}`;
  return message;
}

/** Runs a script's main: the Node warning quieted first, errors as describeError lines and exit status 1. */
export function runCli(main: () => Promise<void>): void {
  quietOldNodeWarning();
  main().catch((error: unknown) => {
    process.stderr.write(`${describeError(error)}\n`);
    process.exitCode = 1;
  });
}
