/**
 * `sls invoke local -f <fn> -p <event>`, the Serverless way to run one function: on the local stage against the
 * stand-ins, and on a deployed stage's settings (where osls fills each Ref from the deployed stack).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { runSlsOffline } from '../../ops/package-stack';

let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'sls-invoke-'));
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A local port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** What invoke local printed as the function's answer or error: the indented JSON after the function's log lines. */
function answerOf(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n');
  return JSON.parse(lines.slice(lines.indexOf('{')).join('\n')) as Record<string, unknown>;
}

describe('sls invoke local', () => {
  it('answers the worker invoked with an API Gateway event in one line naming the event to pass', () => {
    const result = runSlsOffline(
      ['invoke', 'local', '--stage', 'local', '-f', 'worker', '-p', 'events/apigw/02-follow.json'],
      {},
      scratch,
    );

    const answer = answerOf(result.stdout);
    expect(answer.errorMessage).toBe(
      'worker takes an SQS event (Records with eventSource aws:sqs), got an API Gateway HTTP API event: pass one such as events/sqs/02-follow.json; an HTTP API event goes to the webhook',
    );
    expect(answer.stackTrace).toEqual([`EventShapeError: ${answer.errorMessage as string}`]);
    expect(result.stdout).not.toContain('is not iterable');
  }, 240_000);

  it('logs the webhook failing to enqueue as "queue unreachable" when the local pipeline is not running', async () => {
    const port = await closedPort();
    const result = runSlsOffline(
      [
        'invoke',
        'local',
        '--stage',
        'local',
        '-f',
        'webhook',
        '-p',
        'events/apigw/02-follow.json',
        '--env',
        `AWS_ENDPOINT_URL_SQS=http://127.0.0.1:${port}`,
      ],
      {},
      scratch,
    );

    // Powertools writes ERROR lines to stderr.
    const failure = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('{"level"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.level === 'ERROR');
    expect(failure).toMatchObject({
      message: 'Could not enqueue every event; answering 500 so LINE redelivers',
      reasons: [`queue unreachable: connect ECONNREFUSED 127.0.0.1:${port}`],
    });
    expect(answerOf(result.stdout)).toMatchObject({ statusCode: 500 });
  }, 240_000);

  it("reads a deployed stage's environment without CloudFormation conditions: only the stack's Refs are left to fill", () => {
    // No AWS credentials here: osls stops where it would ask the deployed stack for the queue's URL.
    const result = runSlsOffline(
      ['invoke', 'local', '--stage', 'invoke', '-f', 'webhook', '-p', 'events/apigw/02-follow.json'],
      { capillaryBaseUrl: 'https://apac2.api.capillarytech.com', capillaryLineAccountId: '2001914141242' },
      scratch,
    );

    expect(result.status).toBe(1);
    expect(result.stdout + result.stderr).toContain(
      'Could not resolve "QUEUE_URL" environment variable: AWS provider credentials not found',
    );
    expect(result.stdout + result.stderr).not.toContain('Unsupported environment variable format');
  }, 240_000);
});
