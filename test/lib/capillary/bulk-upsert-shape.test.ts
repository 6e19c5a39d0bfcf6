/**
 * One customer shape whichever path registers a follower: a single live registration, the worker's bulk
 * registration of a batch's new followers, and the backfill's bulk registration (instore+line and line-only).
 */
import type { RegistrationMode } from '../../../lib/config/capillary-registration';
import { followEvent, lineUserId } from '../../../local/line-event-factory';
import { startBackfillRig } from '../../../local/rigs/backfill-rig';
import { startWorkerHarness } from '../../../local/rigs/worker-rig';
import type { CapillaryStandIn, CustomerSnapshot } from '../../../local/standins/capillary-standin';

const BULK_PATH = '/v2/integrations/customer/upsert/bulk';
const DISPLAY_NAME = 'Somchai 🌸';

/** The customer document of this LINE user, with what differs by nature (ids, times, the user id) taken out. */
function documentOf(capillary: CapillaryStandIn, userId: string) {
  const customers = capillary.customersWithIdentifier('line', userId);
  expect(customers).toHaveLength(1);
  const { id: _id, subscriptionHistory, ...document } = customers[0] as CustomerSnapshot;
  const withoutUser = JSON.parse(JSON.stringify(document).replaceAll(userId, '<user>')) as Omit<
    CustomerSnapshot,
    'id' | 'subscriptionHistory'
  >;
  return {
    ...withoutUser,
    profiles: [...withoutUser.profiles].sort((a, b) => a.source.localeCompare(b.source)),
    subscriptionHistory: subscriptionHistory.map(({ at: _at, ...change }) => change),
  };
}

const bulkCalls = (capillary: CapillaryStandIn) =>
  capillary.calls().filter((call) => call.path.startsWith(BULK_PATH)).length;

async function liveDocuments(registrationMode: RegistrationMode) {
  const harness = await startWorkerHarness({ capillary: { registrationMode, bulkCountsAs: 'request' } });
  try {
    const [single, ...batch] = [lineUserId(), lineUserId(), lineUserId()];
    for (const userId of [single!, ...batch]) harness.line.setProfile(userId, { displayName: DISPLAY_NAME });
    await harness.run([followEvent(single!, 1000)]);
    expect(bulkCalls(harness.capillary)).toBe(0);
    await harness.run(batch.map((userId) => followEvent(userId, 1000)));
    expect(bulkCalls(harness.capillary)).toBe(1);
    return { single: documentOf(harness.capillary, single!), bulk: documentOf(harness.capillary, batch[0]!) };
  } finally {
    await harness.close();
  }
}

async function backfillDocument(registrationMode: RegistrationMode) {
  const followers = [lineUserId(), lineUserId()];
  const rig = await startBackfillRig({ capillary: { registrationMode }, lineStandIn: { followerIds: followers } });
  try {
    for (const userId of followers) rig.line.setProfile(userId, { displayName: DISPLAY_NAME });
    await rig.runToEnd(await rig.start());
    expect(bulkCalls(rig.capillary)).toBe(1);
    return documentOf(rig.capillary, followers[0]!);
  } finally {
    await rig.close();
  }
}

describe('one customer shape: single live, live bulk and backfill bulk registrations', () => {
  it.each<RegistrationMode>(['instore+line', 'line-only'])('%s: the same document field by field', async (mode) => {
    // Act
    const live = await liveDocuments(mode);
    const backfill = await backfillDocument(mode);
    // Assess
    expect(live.single.profiles.map((profile) => profile.source)).toEqual(
      mode === 'instore+line' ? ['INSTORE', 'LINE'] : ['LINE'],
    );
    expect(live.single.profiles.every((profile) => profile.firstName === DISPLAY_NAME)).toBe(true);
    expect(live.bulk).toEqual(live.single);
    expect(backfill).toEqual(live.single);
  });
});
