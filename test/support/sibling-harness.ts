/** Three channels on one Capillary org: `th` and `tw` of one provider (one user id per person), `jp` of another. */
import { DEFAULT_CAPILLARY_ORG_ID } from '../../lib/config/channels';
import type { WorkerChannel, WorkerConfig } from '../../lib/config/worker-config';
import { accountLinkEvent, followEvent, lineUserId } from '../../local/line-event-factory';
import { startWorkerHarness, type WorkerHarness } from '../../local/rigs/worker-rig';
import { subscriptionOf } from '../../local/standins/capillary-standin';
import { nonceFor } from './link-harness';

export const BOT = { th: `U${'1'.repeat(32)}`, tw: `U${'2'.repeat(32)}`, jp: `U${'3'.repeat(32)}` };
export const VIA = {
  th: { channel: 'th', destination: BOT.th },
  tw: { channel: 'tw', destination: BOT.tw },
  jp: { channel: 'jp', destination: BOT.jp },
};

const PROVIDER = { th: 'brand', tw: 'brand', jp: 'other-brand' };

const channel = (id: keyof typeof BOT): WorkerChannel => ({
  id,
  lineProvider: PROVIDER[id],
  channelAccessToken: `token-${id}`,
  capillaryLineAccountId: `account-${id}`,
  capillaryOrg: DEFAULT_CAPILLARY_ORG_ID,
  destination: BOT[id],
});

export type SiblingHarness = WorkerHarness;

/** The worker harness with the three channels. */
export function startSiblingHarness(link: Partial<WorkerConfig['link']> = {}): Promise<SiblingHarness> {
  return startWorkerHarness({
    channels: [channel('th'), channel('tw'), channel('jp')],
    lineStandIn: { channelAccessToken: ['token-th', 'token-tw', 'token-jp'], profiles: {} },
    link,
  });
}

export const lineSubscriptionOf = (harness: WorkerHarness, customerId: number, id: keyof typeof BOT) =>
  subscriptionOf(harness.capillary.state(), customerId, 'LINE', `account-${id}`);

/** The LINE accounts whose profile a customer carries, sorted. */
export const lineAccountsOf = (harness: WorkerHarness, customerId: number): string[] =>
  (harness.capillary.state().customers.find((c) => c.id === customerId)?.profiles ?? [])
    .filter((profile) => profile.source === 'LINE')
    .map((profile) => profile.accountId)
    .sort();

/** The customers carrying this LINE user id (in any account). */
export const holdersOf = (harness: WorkerHarness, userId: string): number[] =>
  harness.capillary.customersWithIdentifier('line', userId).map((customer) => customer.id);

/** One person follows th and tw (one customer, a LINE profile per account) and is a store member with `mobile`. */
export async function personOnBothChannels(
  mobile: string,
): Promise<{ harness: SiblingHarness; memberId: number; userId: string; anonymousId: number }> {
  const harness = await startSiblingHarness();
  const memberId = harness.capillary.addMember({ mobile });
  const userId = lineUserId();
  await harness.run([followEvent(userId, 1000)], 1, VIA.th);
  await harness.run([followEvent(userId, 1100)], 1, VIA.tw);
  const [anonymousId] = holdersOf(harness, userId) as [number];
  return { harness, memberId, userId, anonymousId };
}

/** One person follows th only and links there to a store member with `mobile`: their tw record names the member, no customer. */
export async function personLinkedOnThOnly(
  mobile: string,
): Promise<{ harness: SiblingHarness; memberId: number; userId: string }> {
  const harness = await startSiblingHarness();
  const memberId = harness.capillary.addMember({ mobile });
  const userId = lineUserId();
  await harness.run([followEvent(userId, 1000)], 1, VIA.th);
  const nonce = await nonceFor(harness, userId, { kind: 'mobile', value: mobile }, { destination: BOT.th });
  await harness.run([accountLinkEvent(userId, 2000, nonce)], 1, VIA.th);
  return { harness, memberId, userId };
}
