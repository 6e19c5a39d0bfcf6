/** The worker harness as the link tests use it: members, nonces the link API would have made, and what Capillary holds. */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';

import type { WorkerConfig } from '../../lib/config/worker-config';
import type { CustomerReference } from '../../lib/domain/link-rules';
import { LinkNonceStore } from '../../lib/store/link-nonce-store';
import { UserSyncStore } from '../../lib/store/user-sync-store';
import { accountLinkEvent, DESTINATION, followEvent, lineUserId } from '../../local/line-event-factory';
import { LINE_ACCOUNT_ID, startWorkerHarness, type WorkerHarness } from '../../local/rigs/worker-rig';
import { subscriptionOf, type CustomerSnapshot } from '../../local/standins/capillary-standin';

export const MOBILE = '66812345678';
export const userKey = (userId: string, destination = DESTINATION) => ({ destination, userId });
export const lineSubscription = (harness: WorkerHarness, customerId: number, accountId = LINE_ACCOUNT_ID) =>
  subscriptionOf(harness.capillary.state(), customerId, 'LINE', accountId);
/** Capillary business calls (the OAuth token call is excluded). */
export const apiCalls = (harness: WorkerHarness) =>
  harness.capillary.calls().filter((call) => call.path.startsWith('/v2/'));
/** The Capillary customers holding this LINE user id. */
export const holders = (harness: WorkerHarness, userId: string): number[] =>
  harness.capillary.customersWithIdentifier('line', userId).map((c) => c.id);
export const customer = (harness: WorkerHarness, id: number): CustomerSnapshot | undefined =>
  harness.capillary.state().customers.find((c) => c.id === id);

/** The worker's next completions fail, as if it died before recording: run an event, then call the returned restore. */
export function dieBeforeRecording(harness: WorkerHarness): () => void {
  const { store } = harness.deps;
  harness.deps.store = {
    claim: store.claim.bind(store),
    read: store.read.bind(store),
    forgetInFlight: store.forgetInFlight.bind(store),
    complete: () => Promise.reject(new Error('the worker died before recording')),
  };
  return () => {
    harness.deps.store = store;
  };
}

/** The user's record claim as if its worker's time ran out long ago. */
export async function expireClaim(harness: WorkerHarness, userId: string): Promise<void> {
  await harness.dynamo.send(
    new UpdateItemCommand({
      TableName: harness.config.tableName,
      Key: { pk: { S: UserSyncStore.partitionKey(userKey(userId)) } },
      UpdateExpression: 'SET claimExpiresAt = :past',
      ExpressionAttributeValues: { ':past': { N: '0' } },
    }),
  );
}

/** What the link API stores for a nonce (lib/link-api), written straight into the store. */
export async function nonceFor(
  harness: WorkerHarness,
  userId: string,
  reference: CustomerReference,
  { expiresInMs = 600_000, destination = DESTINATION } = {},
) {
  const nonce = LinkNonceStore.newNonce();
  await harness.deps.link.nonces.issueNonce(nonce, {
    userId,
    destination,
    customer: reference,
    expiresAt: Date.now() + expiresInMs,
  });
  return nonce;
}

/** A store member with `mobile`, and a follower (their anonymous customer made at follow) who links to them. */
export async function followThenLink(harness: WorkerHarness, mobile = MOBILE) {
  const memberId = harness.capillary.addMember({ mobile });
  const userId = lineUserId();
  await harness.run([followEvent(userId, 1000)]);
  const [anonymousId] = holders(harness, userId);
  const link = accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: mobile }));
  await harness.run([link]);
  return { memberId, userId, anonymousId: anonymousId!, link };
}

export async function startLinkHarness(
  options: {
    capillary?: Partial<WorkerConfig['capillary']>;
    link?: Partial<WorkerConfig['link']>;
    autoApproveMerges?: boolean;
  } = {},
) {
  return startWorkerHarness({
    capillary: options.capillary,
    link: options.link,
    capillaryStandIn: { autoApproveMerges: options.autoApproveMerges },
  });
}
