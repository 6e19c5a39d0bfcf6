/**
 * A deployed backfill function's failed invocations, read from its CloudWatch log: the Node runtime writes one
 * `Invoke Error` line per invocation that threw (text or JSON log format), and SQS retries the tick. What
 * `npm run backfill -- --status` shows beside a job that stays [running] without progress (the local stage has
 * the running pipeline's own record of it instead).
 */
import { FilterLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';

export interface InvocationError {
  at: string;
  name: string;
  message: string;
}

export type InvocationErrorReading = { error?: InvocationError } | { unreadable: string };

/** The log group Lambda writes the stage's backfill function to (the Framework's function name). */
export const backfillLogGroup = (stage: string): string => `/aws/lambda/line-capillary-bridge-${stage}-backfill`;

/** The runtime's words for an invocation that threw: `Invoke Error`, then the error as JSON. */
const INVOKE_ERROR = 'Invoke Error';
/** Enough for a job retried every few minutes over days; older failures say nothing new. */
const MAX_PAGES = 20;

/** The last failed invocation since `sinceMs` (none when the function has not failed, or never ran). */
export async function lastInvocationError(
  logs: CloudWatchLogsClient,
  logGroupName: string,
  sinceMs: number,
): Promise<InvocationErrorReading> {
  let last: InvocationError | undefined;
  let lastAt = -1;
  let nextToken: string | undefined;
  try {
    for (let page = 0; page < MAX_PAGES; page++) {
      const found = await logs.send(
        new FilterLogEventsCommand({
          logGroupName,
          startTime: sinceMs,
          filterPattern: `"${INVOKE_ERROR}"`,
          nextToken,
        }),
      );
      for (const { message = '', timestamp = 0 } of found.events ?? []) {
        const error = invokeErrorOf(message, timestamp);
        if (error !== undefined && timestamp >= lastAt) [last, lastAt] = [error, timestamp];
      }
      nextToken = found.nextToken;
      if (nextToken === undefined) break;
    }
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return {};
    return { unreadable: (error as Error).name };
  }
  return last === undefined ? {} : { error: last };
}

/**
 * `<time>\t<request id>\tERROR\tInvoke Error \t{"errorType":…,"errorMessage":…}` (text log format), or one JSON
 * object with `message: "Invoke Error"`, errorType and errorMessage (JSON log format).
 */
export function invokeErrorOf(line: string, timestamp: number): InvocationError | undefined {
  if (!line.includes(INVOKE_ERROR)) return undefined;
  const start = line.indexOf('{');
  if (start < 0) return undefined;
  try {
    const { errorType, errorMessage } = JSON.parse(line.slice(start)) as {
      errorType?: unknown;
      errorMessage?: unknown;
    };
    if (typeof errorType !== 'string' && typeof errorMessage !== 'string') return undefined;
    return {
      at: new Date(timestamp).toISOString(),
      name: typeof errorType === 'string' ? errorType : 'Error',
      message: typeof errorMessage === 'string' ? errorMessage : '',
    };
  } catch {
    return undefined;
  }
}
