import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SendMessageBatchCommand, type Message } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

import { createSqsClient } from '../../lib/queue/sqs-client';
import { UserSyncStore } from '../../lib/store/user-sync-store';
import { lambdaContext } from '../../local/lambda-context';
import { isPortFree } from '../../local/local-pipeline';
import { DEFAULT_WEBHOOK_URL, type LocalPipelineStatus } from '../../local/pipeline-admin-api';
import { startQueuePoller, type SqsBatchHandler } from '../../local/queue-poller';
import { createFifoQueue } from '../../local/rigs/aws-kit';
import { customersWithIdentifier, subscriptionOf, type CapillaryState } from '../../local/standins/capillary-standin';
import { expectDocSample, MEASURED_SECONDS, onDefaultPorts } from '../support/doc-samples';
import { eventually, run, startPipelineProcess, type Finished } from '../support/pipeline-process';

const DESTINATION = 'U1f2e3d4c5b6a79880011223344556677';
const LINE_ACCOUNT = 'local-line-account';

describe('npm start + npm run replay -- events/ (as the README runs them)', () => {
  let pipeline: ChildProcess;
  let output = '';
  let status: LocalPipelineStatus;
  let stopped = false;

  beforeAll(async () => {
    const started = await startPipelineProcess();
    ({ process: pipeline, status } = started);
    output = started.output();
    pipeline.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    pipeline.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  }, 60_000);

  afterAll(() => {
    if (!stopped) process.kill(-(pipeline.pid as number), 'SIGKILL');
  });

  it('prints what runs where, as docs/local.md shows it (on Node 20 one more line, which the doc mentions)', () => {
    const banner = /Local pipeline ready[\s\S]*?Ctrl-C stops everything\.\n/.exec(output)?.[0] ?? output;
    // On its default ports the pipeline's hints need no --url.
    const onDefaults = onDefaultPorts(banner, status).replaceAll(` --url ${DEFAULT_WEBHOOK_URL}`, '');
    expectDocSample('docs/local.md', 'npm start', onDefaults, [MEASURED_SECONDS]);
  });

  it('replays the samples and leaves every user in the expected Capillary and DynamoDB state', async () => {
    const replay = await run('npx', ['tsx', 'scripts/replay.ts', 'events/', '--url', status.endpoints.webhookUrl]);
    // The taps (engagement queue) and the same user's 05–07 (events queue) are ordered by the user record's claim: one
    // may wait for the other (ClaimHeldError, retried). The doc shows the run without a wait.
    const withoutClaimWaits = replay.stdout.replace(/failed ×\d+ \(last: ClaimHeldError: [^)]*\) → retried → /g, '');
    expectDocSample('docs/local.md', 'npm run replay -- events/', onDefaultPorts(withoutClaimWaits, status), [
      MEASURED_SECONDS,
    ]);
    expect(replay.stderr).not.toMatch(/Replay problems/);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain('11 request(s), 16 event(s) enqueued');
    expect(replay.stdout).toMatch(/Worker \(queue drained after [\d.]+ s; DLQ holds 0 message\(s\)\)/);
    expect(replay.stdout).toMatch(/03-follow-redelivered .* not delivered again: SQS FIFO deduplicated it/);
    expect(replay.stdout).toMatch(/08-mixed-batch #6 .* skipped: stale/);

    const capillary = (await (await fetch(`${status.endpoints.capillary.url}/__admin/state`)).json()) as CapillaryState;
    const store = new UserSyncStore(
      new DynamoDBClient({
        endpoint: status.endpoints.dynamodb,
        region: 'ap-northeast-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
      status.tableName,
      0,
    );
    const expected = [
      {
        userId: 'Ua1b2c3d4e5f60718293a4b5c6d7e8f90',
        subscription: 'OPTIN',
        customers: 1,
        lastEventId: '01JH1ZC0MPD4W7Y2B5E8H1K4N7',
      },
      {
        userId: 'Ub0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0',
        subscription: 'OPTOUT',
        customers: 1,
        lastEventId: '01JH5B0000000000000000001B',
      },
      {
        userId: 'Uc0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0',
        subscription: 'OPTOUT',
        customers: 0,
        lastEventId: '01JH5C0000000000000000000C',
      },
      {
        userId: 'Ud0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0',
        subscription: 'OPTIN',
        customers: 1,
        lastEventId: '01JH5D0000000000000000000D',
      },
    ] as const;
    for (const user of expected) {
      const customers = customersWithIdentifier(capillary, 'line', user.userId);
      const record = await store.read({ destination: DESTINATION, userId: user.userId });
      expect({ userId: user.userId, customers: customers.length }).toEqual({
        userId: user.userId,
        customers: user.customers,
      });
      expect(record).toMatchObject({
        subscription: user.subscription,
        lastEventId: user.lastEventId,
        customerId: customers[0]?.id,
      });
      for (const customer of customers) {
        expect(customer.profiles.map((profile) => profile.source).sort()).toEqual(['INSTORE', 'LINE']);
        expect(subscriptionOf(capillary, customer.id, 'LINE', LINE_ACCOUNT)).toEqual({
          BULK: user.subscription,
          TRANS: user.subscription,
        });
      }
    }
  }, 60_000);

  const tsx = (script: string, ...args: string[]) =>
    run('npx', ['tsx', `scripts/${script}.ts`, ...args, '--url', status.endpoints.webhookUrl]);

  it('serves the second local channel at its own URL: the same person ends as one customer with a LINE profile per account', async () => {
    // Act: events/tw/ = the same user following, then unfollowing, the channel tw (signed with tw's secret)
    const replay = await run('npx', [
      'tsx',
      'scripts/replay.ts',
      'events/tw/',
      '--channel',
      'tw',
      '--url',
      status.endpoints.webhookUrl,
    ]);
    // Assess
    expect(replay.code).toBe(0);
    expectDocSample(
      'docs/local.md',
      'npm run replay -- events/tw/ --channel tw',
      onDefaultPorts(replay.stdout, status),
      [MEASURED_SECONDS],
    );
    expect(replay.stdout).toContain(`POST ${status.endpoints.webhookUrl}/tw`);
    expect(replay.stdout).toContain('2 request(s), 2 event(s) enqueued');
    expect(replay.stdout).toMatch(
      /\(INSTORE\+LINE\+LINE\), LINE default: BULK OPTIN, TRANS OPTIN; LINE tw: BULK OPTOUT, TRANS OPTOUT/,
    );
    const capillary = (await (await fetch(`${status.endpoints.capillary.url}/__admin/state`)).json()) as CapillaryState;
    const [customer, ...others] = customersWithIdentifier(capillary, 'line', 'Ua1b2c3d4e5f60718293a4b5c6d7e8f90');
    expect(others).toEqual([]);
    expect(subscriptionOf(capillary, customer!.id, 'LINE', LINE_ACCOUNT)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect(subscriptionOf(capillary, customer!.id, 'LINE', 'local-line-account-tw')).toEqual({
      BULK: 'OPTOUT',
      TRANS: 'OPTOUT',
    });
    // tw's samples signed with the default channel's secret are refused at tw's URL.
    const wrongSecret = await run('npx', [
      'tsx',
      'scripts/replay.ts',
      'events/tw/01-follow.json',
      '--channel',
      'tw',
      '--secret',
      '0123456789abcdef0123456789abcdef',
      '--url',
      status.endpoints.webhookUrl,
    ]);
    expect(wrongSecret.stdout).toMatch(/01-follow +HTTP 401/);
  }, 60_000);

  it('lists pending faults with `state` and clears them alone with `clear`', async () => {
    await tsx('fault', 'capillary', '503', '2', '--path', '/v2/customers');

    const listed = await tsx('fault', 'capillary', 'state');
    const cleared = await tsx('fault', 'capillary', 'clear');
    const after = await tsx('fault', 'capillary', 'state');

    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('"times": 2');
    expect(listed.stdout).toContain('"pathPrefix": "/v2/customers"');
    expect(cleared.code).toBe(0);
    expect(after.stdout).toContain('"pending": []');
    expect(after.stdout).toContain('"latencyMs": 0');
  }, 30_000);

  it('runs the retry walkthrough of docs/local.md after the demo: --fresh makes the re-post a new event, which meets the faults', async () => {
    await tsx('fault', 'capillary', '503', '6', '--path', '/v2/customers');

    const replay = await tsx('replay', 'events/02-follow.json', '--fresh');

    expect(replay.code).toBe(0);
    const transcript = [
      '$ npm run fault -- capillary 503 6 --path /v2/customers',
      '$ npm run replay -- events/02-follow.json --fresh',
      onDefaultPorts(replay.stdout, status),
    ].join('\n');
    // --fresh makes new event ids on every run.
    expectDocSample('docs/local.md', 'the retry walkthrough', transcript, [MEASURED_SECONDS, /01TEST\w{20}/]);
    expect(replay.stdout).toMatch(
      /02-follow +\w{26} +follow +Ua1b2c3d4… +failed ×1 \(last: CapillaryUnavailableError: Capillary update-subscription still failing after 4 attempts \(last: HTTP 503\)\) → retried → applied: subscribe → OPTIN, customer 500000001/,
    );
    expect((await tsx('fault', 'capillary', 'state')).stdout).toContain('"pending": []');
  }, 60_000);

  it('resets queues, table and stand-ins together: after a reset no user record names a customer the stand-in forgot', async () => {
    // Prepare: the demo left Ua1b… as customer 500000001 (OPTIN) in both Capillary and the user table.
    const reset = await tsx('fault', 'reset');
    await tsx('replay', 'events/08-mixed-batch.json');

    // Act: Ua1b… unfollows; with the table kept, its record would still name customer 500000001.
    const unfollow = await tsx('replay', 'events/06-unfollow.json');

    // Assess
    expect(reset.code).toBe(0);
    expectDocSample('docs/local.md', 'npm run fault -- reset', `$ npm run fault -- reset\n${reset.stdout}`);
    expect(reset.stdout).toContain(
      'Local pipeline reset: queue line-capillary-bridge-local-events.fifo, DLQ line-capillary-bridge-local-events-dlq.fifo, engagement queue and DLQ, table line-capillary-bridge-local-users, Capillary stand-in, LINE API stand-in',
    );
    expect(unfollow.stdout).toMatch(
      /06-unfollow +01JH0X5R2T8Y1V4K7M0P3A6S9D +unfollow +Ua1b2c3d4… +applied: resolve-then-subscribe → OPTOUT, no Capillary customer/,
    );
    const capillary = (await (await fetch(`${status.endpoints.capillary.url}/__admin/state`)).json()) as CapillaryState;
    expect(customersWithIdentifier(capillary, 'line', 'Ua1b2c3d4e5f60718293a4b5c6d7e8f90')).toEqual([]);
    const [stillFollowing] = customersWithIdentifier(capillary, 'line', 'Ud0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0');
    expect(stillFollowing?.id).toBeGreaterThan(500_000_001); // ids are not reused across the reset
    expect(subscriptionOf(capillary, stillFollowing?.id as number, 'LINE', LINE_ACCOUNT)).toEqual({
      BULK: 'OPTIN',
      TRANS: 'OPTIN',
    });
  }, 60_000);

  it("links a follower to the store member through chat, the brand page and LINE's account-link event (npm run link)", async () => {
    const userId = 'Ue0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0';
    const linked = await run('npx', [
      'tsx',
      'scripts/link.ts',
      '--user',
      userId,
      '--mobile',
      '66812345678',
      '--url',
      status.endpoints.webhookUrl,
    ]);
    expect(linked.stderr).not.toMatch(/Error/);
    expect(linked.code).toBe(0);
    // The customer ids depend on what ran before; the event ids and nonce are made per run.
    expectDocSample('docs/local.md', 'npm run link', onDefaultPorts(linked.stdout, status), [
      MEASURED_SECONDS,
      /\b5\d{8}\b/,
      /\b01TEST\w{20}\b/,
      /(?<=ok \()[^)]+(?=\))/,
    ]);
    expect(linked.stdout).toMatch(/follow +\S+ +follow +Ue0e0e0e0… +applied: register → OPTIN/);
    expect(linked.stdout).toMatch(/postback action=link +\S+ +postback +Ue0e0e0e0… +link: link-started/);
    expect(linked.stdout).toMatch(/LINE event +accountLink ok \(\S+\) → webhook HTTP 200/);
    const memberId = /Member (\d+)/.exec(linked.stdout)?.[1];
    expect(linked.stdout).toContain(`before      customer ${memberId} (INSTORE), no LINE profile`);
    expect(linked.stdout).toContain(
      `after       customer ${memberId} (INSTORE+LINE), LINE default: BULK OPTIN, TRANS OPTIN`,
    );
    expect(linked.stdout).toContain(`customer ${memberId}, OPTIN, link linked to member ${memberId}`);
  }, 60_000);

  it('refuses a second start on the same ports, naming them and the pipeline that holds them', async () => {
    const portOf = (url: string) => new URL(url).port;
    const { webhookUrl, sqs, dynamodb, capillary, line } = status.endpoints;
    const second = await run('npx', [
      'tsx',
      'scripts/start.ts',
      '--webhook-port',
      portOf(webhookUrl),
      '--sqs-port',
      portOf(sqs),
      '--dynamodb-port',
      portOf(dynamodb),
      '--capillary-port',
      portOf(capillary.url),
      '--line-port',
      portOf(line.url),
      '--brand-port',
      '0',
    ]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`port ${portOf(webhookUrl)} (webhook HTTP server)`);
    expect(second.stderr).toContain(`port ${portOf(sqs)} (SQS server, fauxqs)`);
    expect(second.stderr).toContain('A local pipeline is already running');
  }, 30_000);

  it('stops everything on Ctrl-C and frees its ports', async () => {
    // 'close': every process of the tree that holds its output has ended, not only npx.
    const closed = once(pipeline, 'close');
    process.kill(-(pipeline.pid as number), 'SIGINT');
    await closed;
    stopped = true;
    expect(output).toContain('Local pipeline stopped.');
    const { webhookUrl, sqs, dynamodb, capillary, line, brandLoginPage } = status.endpoints;
    const ports = [webhookUrl, sqs, dynamodb, capillary.url, line.url, brandLoginPage].map((url) =>
      Number(new URL(url).port),
    );
    expect(await Promise.all(ports.map(isPortFree))).toEqual(ports.map(() => true));
  }, 30_000);
});

describe('operator mistakes get one line naming the fix', () => {
  const oneLine = (finished: Finished) => ({ code: finished.code, stderr: finished.stderr.trimEnd().split('\n') });

  it.each([
    [
      'a replay of a missing file',
      ['scripts/replay.ts', 'events/nope.json'],
      '',
      'events/nope.json does not exist: give a LINE callback body (.json), a directory of them, or - for stdin',
    ],
    [
      'a replay of an empty stdin',
      ['scripts/replay.ts', '-'],
      '',
      'stdin was empty: pipe a body in, e.g. `cat events/02-follow.json | npm run replay -- -`',
    ],
    [
      'a reset of one stand-in',
      ['scripts/fault.ts', 'capillary', 'reset'],
      '',
      'Resetting the capillary stand-in alone would leave the user table naming what it forgot: `npm run fault -- reset` resets the whole local pipeline, `npm run fault -- capillary clear` clears its faults only.',
    ],
    [
      'a local redrive with no pipeline running',
      ['scripts/redrive.ts', '--stage', 'local', '--url', 'http://127.0.0.1:9/line/webhook'],
      '',
      'No local pipeline answers at http://127.0.0.1:9/__local/status: start it with `npm start`, or pass --url <its webhook URL> if it runs on other ports.',
    ],
    [
      'a redrive of a queue the worker does not drain',
      ['scripts/redrive.ts', '--stage', 'prod', '--queue', 'backfill'],
      '',
      'usage: npm run redrive -- (--stage <stage> [--queue events|engagement] | --dlq-url <url> --queue-url <url>) [--region <region>] [--url <local webhook URL>] [--mode auto|task|copy] [--max <n>]',
    ],
    [
      'a deployed redrive without a region',
      ['scripts/redrive.ts', '--stage', 'prod'],
      '',
      'No AWS region: pass --region <region> (e.g. --region ap-northeast-1) or set AWS_REGION.',
    ],
  ])(
    '%s',
    async (_case, args, input, line) => {
      const finished = await run('npx', ['tsx', ...args], input);

      const { stderr } = oneLine(finished);
      expect(finished.code).toBe(1);
      // redrive prints the Node line first on an old Node; the mistake is the last line, and the only other one.
      expect(stderr.at(-1)).toBe(line);
      expect(stderr.filter((text) => !text.startsWith('Node v'))).toEqual([line]);
    },
    30_000,
  );

  it('`npm start -- --replay` of a missing file stops before anything starts', async () => {
    const finished = await run('npx', [
      'tsx',
      'scripts/start.ts',
      '--replay',
      'events/nope.json',
      '--webhook-port',
      '0',
      '--sqs-port',
      '0',
      '--dynamodb-port',
      '0',
      '--capillary-port',
      '0',
      '--line-port',
      '0',
    ]);

    expect(oneLine(finished)).toEqual({
      code: 1,
      stderr: [
        'events/nope.json does not exist: give a LINE callback body (.json), a directory of them, or - for stdin',
      ],
    });
    expect(finished.stdout).toBe('');
  }, 30_000);
});

describe('queue poller (Lambda SQS event source mapping semantics)', () => {
  const sqs = createSqsClient();
  const context = () => lambdaContext({ name: 'poller-test-worker', memoryMb: 128, timeoutSeconds: 30 });

  interface Delivery {
    body: string;
    receiveCount: number;
  }

  /** A handler that records every delivery and answers what `decide` says for each batch. */
  function recordingHandler(decide: (event: SQSEvent, invocation: number) => SQSBatchResponse): {
    handler: SqsBatchHandler;
    deliveries: Delivery[];
  } {
    const deliveries: Delivery[] = [];
    let invocations = 0;
    const handler: SqsBatchHandler = async (event) => {
      invocations += 1;
      deliveries.push(
        ...event.Records.map((record) => ({
          body: record.body,
          receiveCount: Number(record.attributes.ApproximateReceiveCount),
        })),
      );
      return decide(event, invocations);
    };
    return { handler, deliveries };
  }

  async function send(queueUrl: string, messages: { body: string; group: string }[]): Promise<void> {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map(({ body, group }, index) => ({
          Id: String(index),
          MessageBody: body,
          MessageGroupId: group,
          MessageDeduplicationId: body,
        })),
      }),
    );
  }

  async function receiveFrom(queueUrl: string): Promise<Message[]> {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }),
    );
    return Messages;
  }

  it('deletes only the records not in batchItemFailures; a failing one returns with a higher receive count, then goes to the DLQ', async () => {
    const queue = await createFifoQueue(sqs, { maxReceiveCount: 2, visibilityTimeout: 1 });
    await send(queue.queueUrl, [
      { body: 'a1', group: 'A' },
      { body: 'b1', group: 'B' },
      { body: 'b2', group: 'B' },
    ]);
    const { handler, deliveries } = recordingHandler((event) => ({
      batchItemFailures: event.Records.filter((record) => record.body === 'a1').map((record) => ({
        itemIdentifier: record.messageId,
      })),
    }));
    const poller = startQueuePoller({
      sqs,
      queueUrl: queue.queueUrl,
      queueArn: queue.queueArn,
      handler,
      context,
      concurrency: 2,
      waitTimeSeconds: 1,
    });
    try {
      await eventually(async () => ((await poller.isDrained()) ? true : undefined), 'the queue to drain');
    } finally {
      await poller.stop();
    }

    const receivesOf = (body: string) =>
      deliveries.filter((delivery) => delivery.body === body).map((delivery) => delivery.receiveCount);
    expect(receivesOf('a1')).toEqual([1, 2]);
    expect(receivesOf('b1')).toEqual([1]);
    expect(receivesOf('b2')).toEqual([1]);
    expect(deliveries.filter((delivery) => delivery.body.startsWith('b')).map((delivery) => delivery.body)).toEqual([
      'b1',
      'b2',
    ]); // FIFO order
    expect(poller.counters()).toMatchObject({ received: 4, deleted: 2, failed: 2 });
    expect((await receiveFrom(queue.dlqUrl)).map((message) => message.Body)).toEqual(['a1']);
  });

  it.each([
    [
      'throws',
      (): SQSBatchResponse => {
        throw new Error('handler crashed');
      },
    ],
    [
      'reports an itemIdentifier that names no record',
      (): SQSBatchResponse => ({ batchItemFailures: [{ itemIdentifier: 'not-a-message-id' }] }),
    ],
  ])('deletes none of a batch when the handler %s, so all of it is retried', async (_case, firstAnswer) => {
    const queue = await createFifoQueue(sqs, { maxReceiveCount: 5, visibilityTimeout: 1 });
    await send(queue.queueUrl, [
      { body: 'x1', group: 'X' },
      { body: 'y1', group: 'Y' },
    ]);
    const { handler, deliveries } = recordingHandler((_event, invocation) =>
      invocation === 1 ? firstAnswer() : { batchItemFailures: [] },
    );
    const poller = startQueuePoller({
      sqs,
      queueUrl: queue.queueUrl,
      queueArn: queue.queueArn,
      handler,
      context,
      concurrency: 1,
      waitTimeSeconds: 1,
    });
    try {
      await eventually(async () => ((await poller.isDrained()) ? true : undefined), 'the queue to drain');
    } finally {
      await poller.stop();
    }

    expect(deliveries.sort((a, b) => a.body.localeCompare(b.body) || a.receiveCount - b.receiveCount)).toEqual([
      { body: 'x1', receiveCount: 1 },
      { body: 'x1', receiveCount: 2 },
      { body: 'y1', receiveCount: 1 },
      { body: 'y1', receiveCount: 2 },
    ]);
    expect(poller.counters()).toMatchObject({ invocations: 2, received: 4, deleted: 2, failed: 2 });
    expect(await receiveFrom(queue.dlqUrl)).toEqual([]);
  });
});
