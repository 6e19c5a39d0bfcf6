import { perChannel, processBackfillTicks } from '../../../lib/backfill/process-backfill-ticks';
import { InvalidBackfillTickError } from '../../../lib/queue/errors';
import { lambdaContext } from '../../../local/lambda-context';
import { toSqsEvent, toSqsRecord } from '../../../local/lambda-events';
import { receiveAll } from '../../../local/rigs/aws-kit';
import { startBackfillRig, type BackfillRig } from '../../../local/rigs/backfill-rig';
import { seededUserIds } from '../../../local/standins/line-standin';

describe('perChannel', () => {
  it("builds each channel's clients once, and again only after a failed build", async () => {
    const builds: string[] = [];
    let failNext = true;
    const forChannel = perChannel(async (channel) => {
      builds.push(channel);
      if (channel === 'flaky' && failNext) {
        failNext = false;
        throw new Error('SSM unavailable');
      }
      return `clients of ${channel}`;
    });
    // Act
    const first = await forChannel('default');
    const again = await forChannel('default');
    await expect(forChannel('flaky')).rejects.toThrow('SSM unavailable');
    const retried = await forChannel('flaky');
    await forChannel('flaky');
    // Assess
    expect([first, again, retried]).toEqual(['clients of default', 'clients of default', 'clients of flaky']);
    expect(builds).toEqual(['default', 'flaky', 'flaky']);
  });
});

describe('processBackfillTicks', () => {
  let rig: BackfillRig;
  afterEach(() => rig.close());

  const tickRecord = (body: string) =>
    toSqsRecord({ MessageId: 'message-1', Body: body }, 'arn:aws:sqs:ap-northeast-1:000000000000:backfill');
  const invoke = (body: string, timeoutSeconds: number) =>
    processBackfillTicks(
      toSqsEvent([tickRecord(body)]),
      lambdaContext({ name: 'test-backfill', memoryMb: 256, timeoutSeconds }),
      {
        forChannel: async () => ({ ...rig.deps, owner: 'container-1' }),
        sqs: rig.sqs,
        tickQueueUrl: rig.queues.tickQueueUrl,
      },
    );

  it('runs the job to its end within the invocation and queues no next tick', async () => {
    rig = await startBackfillRig({ lineStandIn: { followerIds: seededUserIds(5, 'ticks-end') } });
    const jobId = await rig.start();
    // Act
    const response = await invoke(JSON.stringify({ channel: 'default', jobId }), 120);
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await rig.job()).toMatchObject({ status: 'completed', counters: { registered: 5 } });
    expect(await receiveAll(rig.sqs, rig.queues.tickQueueUrl)).toHaveLength(0);
  });

  it('queues the next tick of the same job when the invocation has too little time left for a batch', async () => {
    rig = await startBackfillRig({ lineStandIn: { followerIds: seededUserIds(5, 'ticks-next') } });
    const jobId = await rig.start();
    // Act: 20 s − 10 s kept back for the hand-over leaves less than one batch's reserve
    await invoke(JSON.stringify({ channel: 'default', jobId }), 20);
    // Assess
    const [next, ...more] = await receiveAll(rig.sqs, rig.queues.tickQueueUrl);
    expect(more).toHaveLength(0);
    expect(JSON.parse(next!.Body!)).toEqual({ channel: 'default', jobId });
    expect(await rig.job()).toMatchObject({ status: 'running', counters: { registered: 0 } });
  });

  it('throws on a malformed tick, leaving it to SQS', async () => {
    rig = await startBackfillRig({ lineStandIn: { followerIds: [] } });
    // Act / Assess
    await expect(invoke('{"channel":"default"}', 120)).rejects.toBeInstanceOf(InvalidBackfillTickError);
  });
});
