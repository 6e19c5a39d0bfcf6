/**
 * What every script shares: `--help`, one line for a mistaken option (no ERR_PARSE_ARGS stack), one line for the
 * AWS SDK's Node warning, and errors as one line that names the fix (no pipeline running, no AWS credentials).
 */
import { quietOldNodeWarning } from '../local/node-support';

export { parseCli, UsageError } from '../local/cli-args';

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
