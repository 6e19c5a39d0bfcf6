import { randomUUID } from 'node:crypto';

import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';

import { backfillLogGroup, invokeErrorOf, lastInvocationError } from '../../ops/backfill-invocation-errors';
import { motoInstalled, startMotoServer, type MotoServer } from '../support/moto-server';

/** As the Node runtime writes an invocation that threw, in the text log format … */
const textLine = (type: string, message: string) =>
  `2026-01-05T03:00:00.000Z\tc0ffee00-0000-4000-8000-000000000000\tERROR\tInvoke Error \t${JSON.stringify({
    errorType: type,
    errorMessage: message,
    stack: [`${type}: ${message}`, '    at processBackfillTicks (/var/task/functions/backfill.js:1:1)'],
  })}\n`;
/** … and in the JSON log format. */
const jsonLine = (type: string, message: string) =>
  JSON.stringify({
    timestamp: '2026-01-05T03:00:00.000Z',
    level: 'ERROR',
    requestId: 'c0ffee00-0000-4000-8000-000000000000',
    message: 'Invoke Error',
    errorType: type,
    errorMessage: message,
    stackTrace: [],
  });

describe('invokeErrorOf', () => {
  it.each([
    ['text', textLine],
    ['JSON', jsonLine],
  ])("reads the runtime's %s log format", (_format, line) => {
    expect(invokeErrorOf(line('LineApiError', 'LINE followers/ids failed: HTTP 500'), Date.UTC(2026, 0, 5, 3))).toEqual(
      {
        at: '2026-01-05T03:00:00.000Z',
        name: 'LineApiError',
        message: 'LINE followers/ids failed: HTTP 500',
      },
    );
  });

  it('ignores lines that are not an invocation error, or carry no error', () => {
    expect(invokeErrorOf('START RequestId: c0ffee Version: $LATEST', 0)).toBeUndefined();
    expect(invokeErrorOf('Invoke Error {not json', 0)).toBeUndefined();
    expect(invokeErrorOf('Invoke Error {"level":"ERROR"}', 0)).toBeUndefined();
  });
});

const installed = motoInstalled();
if (!installed)
  process.stderr.write(
    "moto is not installed: reading the backfill function's log is not tested (pip install 'moto[server]')\n",
  );

let moto: MotoServer;
let logs: CloudWatchLogsClient;

beforeAll(async () => {
  if (!installed) return;
  moto = await startMotoServer();
  logs = new CloudWatchLogsClient({
    region: 'ap-northeast-1',
    endpoint: moto.endpoint,
    credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' },
  });
}, 60_000);

afterAll(async () => {
  logs?.destroy();
  await moto?.stop();
});

/** A stage's backfill log group holding these lines, at these times. */
async function logGroupWith(lines: { at: number; message: string }[]): Promise<string> {
  const logGroupName = backfillLogGroup(`backfill${randomUUID().slice(0, 8)}`);
  const logStreamName = '2026/01/05/[$LATEST]0123456789abcdef';
  await logs.send(new CreateLogGroupCommand({ logGroupName }));
  await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName }));
  await logs.send(
    new PutLogEventsCommand({
      logGroupName,
      logStreamName,
      logEvents: lines.map(({ at, message }) => ({ timestamp: at, message })),
    }),
  );
  return logGroupName;
}

(installed ? describe : describe.skip)("lastInvocationError (the backfill function's log, against moto)", () => {
  const now = Date.now();

  it('finds the last failed invocation since the job last moved, in either log format', async () => {
    // Prepare
    const group = await logGroupWith([
      { at: now - 60_000, message: textLine('CapillaryApiError', 'before the job moved') },
      { at: now - 20_000, message: 'START RequestId: c0ffee Version: $LATEST' },
      { at: now - 10_000, message: textLine('LineApiError', 'LINE followers/ids failed: HTTP 500') },
      { at: now - 5_000, message: jsonLine('LineApiError', 'LINE followers/ids failed: HTTP 503') },
    ]);
    // Act
    const reading = await lastInvocationError(logs, group, now - 30_000);
    // Assess
    expect(reading).toEqual({
      error: {
        at: new Date(now - 5_000).toISOString(),
        name: 'LineApiError',
        message: 'LINE followers/ids failed: HTTP 503',
      },
    });
  });

  it('finds nothing when the function has not failed since, or has no log yet', async () => {
    // Prepare
    const group = await logGroupWith([{ at: now - 60_000, message: textLine('LineApiError', 'long ago') }]);
    // Act
    const quiet = await lastInvocationError(logs, group, now - 30_000);
    const neverRan = await lastInvocationError(logs, backfillLogGroup('never-deployed'), now - 30_000);
    // Assess
    expect(quiet).toEqual({});
    expect(neverRan).toEqual({});
  });
});

it('says the log is unreadable (and why) rather than failing the status', async () => {
  // Prepare: nothing listens there (denied credentials end the same way: an error instead of events)
  const unreachable = new CloudWatchLogsClient({
    region: 'ap-northeast-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  // Act
  const reading = await lastInvocationError(unreachable, backfillLogGroup('prod'), 0);
  unreachable.destroy();
  // Assess
  expect(reading).toEqual({ unreadable: expect.any(String) });
});
