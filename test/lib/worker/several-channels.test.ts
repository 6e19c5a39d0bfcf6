import { DEFAULT_CAPILLARY_ORG_ID } from '../../../lib/config/channels';
import type { WorkerChannel } from '../../../lib/config/worker-config';
import { processSqsBatch } from '../../../lib/worker/process-sqs-batch';
import { buildSyncDeps } from '../../../lib/worker/worker-deps';
import { lambdaContext } from '../../../local/lambda-context';
import { toSqsEvent } from '../../../local/lambda-events';
import { followEvent, lineUserId, unfollowEvent } from '../../../local/line-event-factory';
import {
  RIG_CAPILLARY_AUTH,
  sqsRecordFor,
  startWorkerHarness,
  workerConfigFor,
  type WorkerHarness,
} from '../../../local/rigs/worker-rig';
import {
  startCapillaryStandIn,
  subscriptionOf,
  type CapillaryStandIn,
} from '../../../local/standins/capillary-standin';
import { capturedOutput } from '../../support/captured-output';

/** Two Official Accounts of one provider: the same person has the same user id in both. */
const BOT_TH = `U${'1'.repeat(32)}`;
const BOT_TW = `U${'2'.repeat(32)}`;
const channel = (id: string, overrides: Partial<WorkerChannel> = {}): WorkerChannel => ({
  id,
  channelAccessToken: `token-${id}`,
  capillaryLineAccountId: `account-${id}`,
  capillaryOrg: DEFAULT_CAPILLARY_ORG_ID,
  ...overrides,
});
const TH = { channel: 'th', destination: BOT_TH };
const TW = { channel: 'tw', destination: BOT_TW };

const lineSubscription = (capillary: CapillaryStandIn, customerId: number, accountId: string) =>
  subscriptionOf(capillary.state(), customerId, 'LINE', accountId);

describe.each(['instore+line', 'line-only'] as const)(
  'worker: one person following two channels of one provider (%s)',
  (registrationMode) => {
    let harness: WorkerHarness;
    beforeEach(async () => {
      harness = await startWorkerHarness({
        capillary: { registrationMode },
        channels: [channel('th'), channel('tw')],
        lineStandIn: { channelAccessToken: ['token-th', 'token-tw'], profiles: {} },
      });
    });
    afterEach(() => harness.close());

    it('ends as one Capillary customer with one LINE profile per account, each opted in', async () => {
      // Prepare
      const userId = lineUserId();
      harness.line.setProfile(userId, { displayName: 'Somchai' });
      // Act
      const output = await capturedOutput(async () => {
        expect((await harness.run([followEvent(userId, 1000)], 1, TH)).batchItemFailures).toEqual([]);
        expect((await harness.run([followEvent(userId, 2000)], 1, TW)).batchItemFailures).toEqual([]);
      });
      // Assess
      const [customer, ...others] = harness.capillary.customersWithIdentifier('line', userId);
      expect(others).toEqual([]);
      const lineProfiles = customer!.profiles.filter((profile) => profile.source === 'LINE');
      expect(lineProfiles.map((profile) => profile.accountId)).toEqual(['account-th', 'account-tw']);
      expect(lineSubscription(harness.capillary, customer!.id, 'account-th')).toEqual({
        BULK: 'OPTIN',
        TRANS: 'OPTIN',
      });
      expect(lineSubscription(harness.capillary, customer!.id, 'account-tw')).toEqual({
        BULK: 'OPTIN',
        TRANS: 'OPTIN',
      });
      // The second account's LINE profile merged into the customer (8050), which the worker logs for the audit trail.
      const adds = harness.capillary.calls().filter((call) => call.method === 'POST' && call.path === '/v2/customers');
      expect(adds.at(-1)?.warningCodes).toEqual([8050]);
      expect(
        output.filter((line) => line.message === 'Capillary merged the LINE profile into an existing customer (8050)'),
      ).toContainEqual(expect.objectContaining({ channel: 'tw', customerId: customer!.id }));
      // One record per bot and user.
      expect(await harness.store.read({ destination: BOT_TH, userId })).toMatchObject({
        customerId: customer!.id,
        subscription: 'OPTIN',
      });
      expect(await harness.store.read({ destination: BOT_TW, userId })).toMatchObject({
        customerId: customer!.id,
        subscription: 'OPTIN',
      });
    });

    it('opts out of the unfollowed account only', async () => {
      // Prepare
      const userId = lineUserId();
      await harness.run([followEvent(userId, 1000)], 1, TH);
      await harness.run([followEvent(userId, 2000)], 1, TW);
      // Act
      const response = await harness.run([unfollowEvent(userId, 3000)], 1, TW);
      // Assess
      expect(response.batchItemFailures).toEqual([]);
      const [customer] = harness.capillary.customersWithIdentifier('line', userId);
      expect(lineSubscription(harness.capillary, customer!.id, 'account-th')).toEqual({
        BULK: 'OPTIN',
        TRANS: 'OPTIN',
      });
      expect(lineSubscription(harness.capillary, customer!.id, 'account-tw')).toEqual({
        BULK: 'OPTOUT',
        TRANS: 'OPTOUT',
      });
      expect(await harness.store.read({ destination: BOT_TH, userId })).toMatchObject({ subscription: 'OPTIN' });
      expect(await harness.store.read({ destination: BOT_TW, userId })).toMatchObject({ subscription: 'OPTOUT' });
    });
  },
);

describe('worker: per-channel clients', () => {
  let harness: WorkerHarness | undefined;
  afterEach(() => harness?.close());

  it("looks profiles up with the event's channel's own access token", async () => {
    // Prepare: the LINE API accepts only tw's token, so th's look-up is refused (and th registers without a name)
    harness = await startWorkerHarness({
      channels: [channel('th'), channel('tw')],
      lineStandIn: { channelAccessToken: 'token-tw' },
    });
    const [thUser, twUser] = [lineUserId(), lineUserId()];
    // Act
    await harness.run([followEvent(thUser, 1000)], 1, TH);
    await harness.run([followEvent(twUser, 1000)], 1, TW);
    // Assess
    const lineProfileOf = (userId: string) =>
      harness!.capillary
        .customersWithIdentifier('line', userId)[0]!
        .profiles.find((profile) => profile.source === 'LINE');
    expect(lineProfileOf(thUser)).toMatchObject({ accountId: 'account-th' });
    expect(lineProfileOf(thUser)).not.toHaveProperty('firstName');
    expect(lineProfileOf(twUser)).toMatchObject({
      accountId: 'account-tw',
      firstName: expect.stringMatching(/^LINE user /),
    });
    expect(harness.line.calls().map((call) => call.status)).toEqual([401, 200]);
  });

  it('names the channel on every log line of an event and counts its Capillary failures under it', async () => {
    // Prepare: Capillary answers 503 to the first business call, then recovers (the call is retried)
    harness = await startWorkerHarness({
      channels: [channel('th'), channel('tw')],
      lineStandIn: { channelAccessToken: ['token-th', 'token-tw'] },
    });
    harness.capillary.injectFault({ status: 503, times: 1, pathPrefix: '/v2/customers' });
    // Act
    const output = await capturedOutput(() => harness!.run([followEvent(lineUserId(), 1000)], 1, TW));
    // Assess
    const logLines = output.filter((line) => 'level' in line);
    expect(logLines.length).toBeGreaterThanOrEqual(5); // claimed, Capillary calls, applied
    expect(logLines.filter((line) => line.channel !== 'tw')).toEqual([]);
    const failures = output.filter((line) => '_aws' in line && 'CapillaryError' in line);
    expect(failures).toEqual([
      expect.objectContaining({ channel: 'tw', operation: 'add-customer-instore', code: '503', CapillaryError: 1 }),
      expect.objectContaining({ operation: 'add-customer-instore', code: '503', CapillaryError: 1 }),
    ]);
    expect(failures[1]).not.toHaveProperty('channel');
  });

  it('fails an event of a channel it is not configured for, so it is retried and ends in the DLQ, touching nothing', async () => {
    harness = await startWorkerHarness({ channels: [channel('th')] });
    const response = await harness.run([followEvent(lineUserId(), 1000)], 1, TW);
    expect(response.batchItemFailures).toHaveLength(1);
    expect(harness.settled.map((settled) => settled.error)).toEqual([
      expect.objectContaining({ name: 'ChannelNotConfiguredError' }),
    ]);
    expect(harness.capillary.calls()).toEqual([]);
  });
});

describe('worker: channels on several Capillary orgs', () => {
  let orgs: CapillaryStandIn[];
  let harness: WorkerHarness;
  beforeEach(async () => {
    harness = await startWorkerHarness();
    orgs = [harness.capillary, await startCapillaryStandIn()];
  });
  afterEach(async () => {
    await orgs[1]?.close();
    await harness.close();
  });

  it("writes each channel's customers to its own org, with one OAuth token per org shared by its channels", async () => {
    // Prepare: th and tw on the default org, jp on its own
    const channels = [channel('th'), channel('tw'), channel('jp', { capillaryOrg: 'jp-org' })];
    const config = workerConfigFor(harness.config.tableName, orgs[0]!.url, harness.line.url, {}, channels, [
      { id: 'jp-org', baseUrl: orgs[1]!.url, auth: RIG_CAPILLARY_AUTH, rateLimitPerMinute: 1_000_000 },
    ]);
    const deps = buildSyncDeps(config, harness.dynamo);
    const users = [lineUserId(), lineUserId(), lineUserId()];
    const records = [
      sqsRecordFor(followEvent(users[0]!, 1000), 1, BOT_TH, 'th'),
      sqsRecordFor(followEvent(users[1]!, 1000), 1, BOT_TW, 'tw'),
      sqsRecordFor(followEvent(users[2]!, 1000), 1, `U${'3'.repeat(32)}`, 'jp'),
    ];
    // Act
    const response = await processSqsBatch(
      toSqsEvent(records),
      lambdaContext({ name: 'test-worker', memoryMb: 256, timeoutSeconds: 30 }),
      deps,
    );
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const holders = (org: CapillaryStandIn) =>
      users.map((userId) => org.customersWithIdentifier('line', userId).length);
    expect(holders(orgs[0]!)).toEqual([1, 1, 0]);
    expect(holders(orgs[1]!)).toEqual([0, 0, 1]);
    const tokenCalls = (org: CapillaryStandIn) =>
      org.calls().filter((call) => call.path.startsWith('/v3/oauth/token')).length;
    expect([tokenCalls(orgs[0]!), tokenCalls(orgs[1]!)]).toEqual([1, 1]);
  });
});
