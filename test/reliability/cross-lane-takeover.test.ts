/**
 * Ordering through the worker's public entry (processSqsBatch), with worker deaths forced between the Capillary
 * calls and the commit (the held-out chaos seeds 20261207 and 31337, docs/reliability.md Finding 6): a claim taken
 * over by an event of another lane is not forgotten when that event's worker dies too, and an unlink does not go
 * ahead of a link that attached the member and died before its record.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import type { LineEventFacts } from '../../lib/domain/sync-rules';
import type { LineWebhookEvent } from '../../lib/line/callback';
import { LinkNonceStore } from '../../lib/store/link-nonce-store';
import { UserSyncStore, type AppliedChange, type LineUserKey } from '../../lib/store/user-sync-store';
import type { WorkerDeps } from '../../lib/worker/handle-queued-event';
import { processSqsBatch } from '../../lib/worker/process-sqs-batch';
import { lambdaContext } from '../../local/lambda-context';
import { toSqsEvent } from '../../local/lambda-events';
import {
  accountLinkEvent,
  DESTINATION,
  followEvent,
  lineUserId,
  postbackEvent,
  unfollowEvent,
} from '../../local/line-event-factory';
import { LINE_ACCOUNT_ID, sqsRecordFor, startWorkerHarness, type WorkerHarness } from '../../local/rigs/worker-rig';
import { subscriptionOf } from '../../local/standins/capillary-standin';

const CLAIM_TTL_MS = 500;
const MOBILE = '66812345678';
const holders = (harness: WorkerHarness, userId: string): number[] =>
  harness.capillary.customersWithIdentifier('line', userId).map((customer) => customer.id);

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

describe('worker: events whose workers die between Capillary and the commit', () => {
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

  it('link A attaches the member and dies; the newer unlink U waits for it, and the member ends without the LINE id', async () => {
    // Prepare
    const userId = lineUserId();
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const nonce = LinkNonceStore.newNonce();
    await deps.link.nonces.issueNonce(nonce, {
      userId,
      destination: DESTINATION,
      customer: { kind: 'mobile', value: MOBILE },
      expiresAt: Date.now() + 600_000,
    });
    await deliver(followEvent(userId, 1000));
    const link = accountLinkEvent(userId, 2000, nonce);
    expect(await deliver(link, { dies: true })).toMatchObject({ failed: true });
    expect(holders(harness, userId)).toEqual([memberId]);
    // Act: the link's message waits in the DLQ while the unlink is delivered; then both are redriven, in order
    const unlink = postbackEvent(userId, 3000, 'action=unlink');
    const whileLinkParked = await deliver(unlink);
    const redriven = [await deliver(link), await deliver(unlink)];
    // Assess: the unlink did not go ahead on a record that did not know the link had attached the member
    expect(whileLinkParked.settled?.error?.name).toBe('ClaimHeldError');
    expect(redriven.map(({ settled }) => settled?.outcome)).toEqual([
      { result: 'link', action: 'linked', customerId: memberId },
      { result: 'link', action: 'unlinked', customerId: memberId },
    ]);
    expect(holders(harness, userId)).not.toContain(memberId);
  });
});
