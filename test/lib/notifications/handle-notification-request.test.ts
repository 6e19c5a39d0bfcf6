import { handleNotificationRequest } from '../../../lib/notifications/handle-notification-request';
import { parseQueuedEvent } from '../../../lib/queue/queued-event';
import { createSqsClient } from '../../../lib/queue/sqs-client';
import { DynamoNotificationLog } from '../../../lib/store/notification-log';
import type { LineUserKey } from '../../../lib/store/user-sync-store';
import { receiveAll } from '../../../local/rigs/aws-kit';
import {
  notificationRequest,
  startNotificationsHarness,
  type NotificationsHarness,
} from '../../../local/rigs/notifications-rig';
import { startSqsRecorder } from '../../support/sqs-recorder';

const BOT = `U${'b'.repeat(32)}`;
const OTHER_BOT = `U${'c'.repeat(32)}`;

/** The documented loyaltyCustomerMerge sample (no eventId), shape A. */
const mergeNotification = (survivor: number, victim: number) => ({
  eventName: 'loyaltyCustomerMerge',
  data: {
    survivorCustomerIdentifiers: { customerId: survivor },
    victimCustomerIdentifiers: { customerId: victim },
    triggeringActivity: { name: 'customerMerge', identifiers: [], additionalAttributes: [] },
  },
  orgId: 150014,
  refId: `150014_${victim}`,
  createdAt: 1683871320301,
});
/** The PII deletion update, its request fields at the top level (samples §1.2a). */
const deletionNotification = (customerId: number, status = 'APPROVED') => ({
  eventName: 'requestUpdated',
  eventId: `48b6ad35-${customerId}-${status}`,
  orgId: 781,
  createdAt: 1663690031667,
  requestTrackingId: '7676878',
  requestType: 'CUSTOMER',
  requestBaseType: 'DELETE',
  status,
  customerId,
  data: { requestId: 'id' },
});

describe('handleNotificationRequest (dynalite + fauxqs)', () => {
  let harness: NotificationsHarness;
  afterEach(() => harness.close());

  async function userWith(key: LineUserKey, customerId: number, linkedCustomerId?: number) {
    const facts = { type: 'follow', webhookEventId: `E-${key.userId}`, timestamp: 1 };
    await harness.users.claim(key, facts);
    await harness.users.complete(key, facts, { customerId, linkedCustomerId });
  }
  const owned = (userId: string, destination = BOT, channel = 'default'): LineUserKey => ({
    destination,
    userId,
    owner: { channel, capillaryOrg: 'default' },
  });

  it('queues one merge event per user naming the victim, into each user group; a later delivery queues nothing', async () => {
    harness = await startNotificationsHarness();
    await userWith(owned('Ua'), 10);
    await userWith(owned('Ub', OTHER_BOT, 'th'), 11, 10);
    await userWith(owned('Uc'), 12);
    // Act
    const answer = await handleNotificationRequest(notificationRequest(mergeNotification(20, 10)), harness.deps);
    // Assess
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body as string)).toEqual({
      received: 1,
      applied: 1,
      duplicates: 0,
      ignored: 0,
      queued: 2,
    });
    const messages = await receiveAll(harness.sqs, harness.queue.queueUrl);
    const queued = messages.map((message) => ({
      group: message.Attributes?.MessageGroupId,
      ...parseQueuedEvent(message.Body as string),
    }));
    expect(
      queued
        .map(({ group, channel, destination, event }) => [group, channel, destination, event.type, event.capillary])
        .sort(),
    ).toEqual([
      [`${BOT}:Ua`, 'default', BOT, 'capillary.merge', { survivor: 20, victim: 10 }],
      [`${OTHER_BOT}:Ub`, 'th', OTHER_BOT, 'capillary.merge', { survivor: 20, victim: 10 }],
    ]);
    expect(queued.every(({ event }) => event.timestamp === 1683871320301)).toBe(true);
    // Act: Capillary sends it again (say the answer timed out)
    const again = await handleNotificationRequest(notificationRequest(mergeNotification(20, 10)), harness.deps);
    expect(JSON.parse(again.body as string)).toMatchObject({ duplicates: 1, queued: 0 });
    expect(await receiveAll(harness.sqs, harness.queue.queueUrl)).toEqual([]);
  });

  it.each([
    [
      'shape B, org-prefixed event type',
      (id: number) => ({
        eventId: 'b-1',
        eventType: '781_requestUpdated',
        attributes: {
          createdAt: 5,
          data: {
            requestType: 'CUSTOMER',
            requestBaseType: 'DELETE',
            status: 'APPROVED',
            customerIdentifiers: { customerId: id },
          },
        },
      }),
    ],
    ['shape C around shape A', (id: number) => ({ data: deletionNotification(id), errors: null, warnings: null })],
    ['an array of one', (id: number) => [deletionNotification(id)]],
  ])('reads a PII deletion in %s', async (_name, body) => {
    harness = await startNotificationsHarness();
    await userWith(owned('Ua'), 30);
    const answer = await handleNotificationRequest(notificationRequest(body(30)), harness.deps);
    expect(JSON.parse(answer.body as string)).toMatchObject({ applied: 1, queued: 1 });
    const [message] = await receiveAll(harness.sqs, harness.queue.queueUrl);
    expect(parseQueuedEvent(message?.Body as string).event).toMatchObject({
      type: 'capillary.delete',
      capillary: { customerId: 30 },
    });
  });

  it.each([
    ['REJECTED', { rejected: true }],
    ['APPROVED', {}],
  ])(
    'reads a merge request %s (shape B, as the transaction sample) for the users naming its victim',
    async (status, extra) => {
      harness = await startNotificationsHarness();
      await userWith(owned('Ua'), 30, 40);
      const body = {
        eventId: `m-${status}`,
        eventType: 'requestUpdated',
        attributes: {
          createdAt: 7,
          eventName: 'requestUpdated',
          data: {
            requestType: 'CHANGE_IDENTIFIER',
            requestBaseType: 'MERGE',
            requestTrackingId: 10585,
            status,
            customerIdentifiers: { customerId: 30 },
          },
        },
      };
      const answer = await handleNotificationRequest(notificationRequest(body), harness.deps);
      expect(JSON.parse(answer.body as string)).toMatchObject({ applied: 1, queued: 1 });
      const [message] = await receiveAll(harness.sqs, harness.queue.queueUrl);
      const { event } = parseQueuedEvent(message?.Body as string);
      expect([event.type, event.capillary]).toEqual([
        'capillary.merge',
        { customerId: 30, mergeRequestId: '10585', ...extra },
      ]);
    },
  );

  it('remembers a PII deletion that finds no user, for a merge into that customer whose notice comes later', async () => {
    harness = await startNotificationsHarness();
    const answer = await handleNotificationRequest(notificationRequest(deletionNotification(77)), harness.deps);
    expect(JSON.parse(answer.body as string)).toMatchObject({ applied: 1, queued: 0 });
    const log = new DynamoNotificationLog(harness.dynamo, harness.deps.config.tableName);
    expect([await log.deletedAt('default', 77), await log.deletedAt('default', 78)]).toEqual([
      1663690031667,
      undefined,
    ]);
  });

  it('acknowledges unknown events and requests that change no identity, queueing nothing', async () => {
    harness = await startNotificationsHarness();
    await userWith(owned('Ua'), 30);
    const answer = await handleNotificationRequest(
      notificationRequest([
        { eventName: 'pointsIssued', eventId: 'p', data: {} },
        { eventId: 'x', eventType: '150698_customerAdded', attributes: { data: {} } },
        deletionNotification(30, 'REJECTED'),
      ]),
      harness.deps,
    );
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body as string)).toMatchObject({ received: 3, ignored: 3, queued: 0 });
    expect(await receiveAll(harness.sqs, harness.queue.queueUrl)).toEqual([]);
  });

  it.each([
    ['no token', notificationRequest(mergeNotification(2, 1), { token: null }), 401, undefined],
    ['a wrong token', notificationRequest(mergeNotification(2, 1), { token: 'x'.repeat(40) }), 401, undefined],
    ['a body that is not JSON', notificationRequest(undefined, { raw: Buffer.from('{') }), 400, '$'],
    ['no event name', notificationRequest({ data: {} }), 400, '$.eventName'],
    ['an array with a bad entry', notificationRequest([mergeNotification(2, 1), 7]), 400, '$[1]'],
    [
      'a merge without a victim',
      notificationRequest({
        eventName: 'loyaltyCustomerMerge',
        data: { survivorCustomerIdentifiers: { customerId: 2 } },
      }),
      400,
      '$.data.victimCustomerIdentifiers.customerId',
    ],
    ['a body over the limit', notificationRequest({ eventName: 'x', pad: 'y'.repeat(300 * 1024) }), 413, undefined],
    ['another path', notificationRequest(mergeNotification(2, 1), { path: '/capillary/other' }), 404, undefined],
    ['GET', notificationRequest(mergeNotification(2, 1), { method: 'GET' }), 404, undefined],
  ])('refuses %s, queueing nothing', async (_name, request, status, field) => {
    harness = await startNotificationsHarness();
    await userWith(owned('U1'), 1);
    const answer = await handleNotificationRequest(request, harness.deps);
    expect(answer.statusCode).toBe(status);
    if (field !== undefined) expect(JSON.parse(answer.body as string)).toMatchObject({ field });
    if (status === 401) expect(answer.headers).toMatchObject({ 'www-authenticate': 'Bearer' });
    expect(await receiveAll(harness.sqs, harness.queue.queueUrl)).toEqual([]);
  });

  it('answers 503 when not every event could be queued, and queues the notification again on the retry', async () => {
    let failing = true;
    const recorder = await startSqsRecorder((_call, entries) => (failing ? entries.map((entry) => entry.Id) : []));
    harness = await startNotificationsHarness({}, createSqsClient({ endpoint: recorder.endpoint }));
    try {
      await userWith(owned('Ua'), 10);
      const answer = await handleNotificationRequest(notificationRequest(mergeNotification(20, 10)), harness.deps);
      expect(answer.statusCode).toBe(503);
      expect(answer.headers).toMatchObject({ 'retry-after': '5' });
      failing = false;
      const retry = await handleNotificationRequest(notificationRequest(mergeNotification(20, 10)), harness.deps);
      expect(JSON.parse(retry.body as string)).toMatchObject({ applied: 1, queued: 1 });
      expect(recorder.accepted).toHaveLength(1);
    } finally {
      await recorder.close();
    }
  });
});
