/**
 * Ordering across lanes through the worker's public entry (processSqsBatch), with worker deaths forced
 * between the Capillary calls and the commit: a claim taken over by an event of another lane must not be
 * forgotten when that event's worker dies too (found by the held-out chaos seeds 20261207 and 31337).
 */
import { setTimeout as sleep } from 'node:timers/promises';

import type { LineEventFacts } from '../../lib/domain/sync-rules';
import type { LineWebhookEvent } from '../../lib/line/callback';
import { UserSyncStore, type AppliedChange, type LineUserKey } from '../../lib/store/user-sync-store';
import { processSqsBatch, type WorkerDeps } from '../../lib/worker/process-sqs-batch';
import { lambdaContext } from '../../local/lambda-context';
import { toSqsEvent } from '../../local/lambda-events';
import { followEvent, lineUserId, postbackEvent, unfollowEvent } from '../../local/line-event-factory';
import { subscriptionOf } from '../../local/standins/capillary-standin';
import { LINE_ACCOUNT_ID, sqsRecordFor, startWorkerHarness, type WorkerHarness } from '../../local/worker-rig';

const CLAIM_TTL_MS = 500;

class WorkerDiedError extends Error {
  override readonly name = 'WorkerDiedError';
}

/** The real store, but the worker of a chosen event dies after its Capillary calls, before its commit. */
class DyingUserSyncStore extends UserSyncStore {
  readonly diesBeforeCommit = new Set<string>();

  override async complete(key: LineUserKey, event: LineEventFacts, change: AppliedChange, now?: number) {
    if (this.diesBeforeCommit.delete(event.webhookEventId)) throw new WorkerDiedError(event.webhookEventId);
    return super.complete(key, event, change, now);
  }
}

describe('worker: a claim taken over by another lane whose worker dies too', () => {
  let harness: WorkerHarness;
  let store: DyingUserSyncStore;
  let deps: WorkerDeps;
  beforeEach(async () => {
    harness = await startWorkerHarness();
    store = new DyingUserSyncStore(harness.dynamo, harness.config.tableName, CLAIM_TTL_MS);
    deps = { ...harness.deps, store };
  });
  afterEach(() => harness.close());

  /** One invocation with one event; with `dies`, its worker dies before the commit and its claim expires. */
  async function deliver(event: LineWebhookEvent, { dies = false } = {}) {
    if (dies) store.diesBeforeCommit.add(event.webhookEventId);
    const response = await processSqsBatch(
      toSqsEvent([sqsRecordFor(event)]),
      lambdaContext({ name: 'cross-lane-test', memoryMb: 512, timeoutSeconds: 30 }),
      deps,
    );
    if (dies) await sleep(CLAIM_TTL_MS + 100);
    return { failed: response.batchItemFailures.length > 0, settled: harness.settled.at(-1) };
  }

  it('follow Y dies after Capillary; link-lane L takes its claim over and dies; the older unfollow X is stale', async () => {
    // Prepare
    const userId = lineUserId();
    expect(await deliver(followEvent(userId, 2000), { dies: true })).toMatchObject({ failed: true });
    const [customer] = harness.capillary.customersWithIdentifier('line', userId);
    expect(subscriptionOf(harness.capillary.state(), customer!.id, 'LINE', LINE_ACCOUNT_ID).BULK).toBe('OPTIN');
    expect(await deliver(postbackEvent(userId, 3000, 'action=unlink'), { dies: true })).toMatchObject({
      failed: true,
    });
    // Act: X is older than Y, whose follow reached Capillary
    const older = await deliver(unfollowEvent(userId, 1000));
    // Assess
    expect(older.settled?.outcome).toEqual({ result: 'skipped', reason: 'stale' });
    expect(subscriptionOf(harness.capillary.state(), customer!.id, 'LINE', LINE_ACCOUNT_ID)).toEqual({
      BULK: 'OPTIN',
      TRANS: 'OPTIN',
    });
  });
});
