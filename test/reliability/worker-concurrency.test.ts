/**
 * The local pipeline (npm start, and the chaos suites) runs several worker invocations at once in one
 * process, which Lambda never does. Each invocation must still report exactly its own failed records:
 * a failure reported to the wrong invocation is a message deleted unprocessed, i.e. an event lost.
 */
import { processSqsBatch } from '../../lib/worker/process-sqs-batch';
import { lambdaContext } from '../../local/lambda-context';
import { followEvent, lineUserId } from '../../local/line-event-factory';
import { sqsRecordFor, startWorkerHarness, type WorkerHarness } from '../../local/rigs/worker-rig';

describe('two worker invocations at once in one process', () => {
  let harness: WorkerHarness;
  beforeEach(async () => {
    harness = await startWorkerHarness();
  });
  afterEach(() => harness.close());

  const invoke = (records: ReturnType<typeof sqsRecordFor>[]) =>
    processSqsBatch(
      { Records: records },
      lambdaContext({ name: 'concurrency-test', memoryMb: 512, timeoutSeconds: 30 }),
      // Each follower on its own (no bulk registration): the faults below target the single add-customer calls.
      { ...harness.deps, bulk: undefined },
    );

  it('each report exactly their own failed records', async () => {
    // Prepare: batch A's first record fails on its first Capillary call; its second is held by Capillary for a while
    harness.capillary.injectFault({ status: 500, times: 1, pathPrefix: '/v2/customers' });
    harness.capillary.injectFault({ kind: 'timeout', times: 1, delayMs: 300, pathPrefix: '/v2/customers' });
    const failing = sqsRecordFor(followEvent(lineUserId(), 1000));
    const slow = sqsRecordFor(followEvent(lineUserId(), 1000));
    const other = sqsRecordFor(followEvent(lineUserId(), 1000));
    const failingSettled = harness.whenSettled(failing.messageId);
    // Act: batch B starts while batch A is still working on its second record
    const batchA = invoke([failing, slow]);
    await failingSettled;
    const batchB = invoke([other]);
    const [responseA, responseB] = await Promise.all([batchA, batchB]);
    // Assess
    expect(responseA.batchItemFailures).toEqual([{ itemIdentifier: failing.messageId }]);
    expect(responseB.batchItemFailures).toEqual([]);
  });
});
