import { startCapillaryStandIn } from '../../../local/standins/capillary-standin';
import { postMergeRequest, STANDIN_BASIC_AUTH } from '../../support/capillary-merge-requests';
import { closedAfterEach } from '../../support/closed-after-each';
import { startNotificationReceiver as startReceiver } from '../../support/notification-receiver';

const startStandIn = closedAfterEach(startCapillaryStandIn);
type CapErrors = { errors: { code: number }[] };

describe('Capillary stand-in: merges and PII deletions, notified like Capillary', () => {
  it('merges the victim into the survivor, answers 8069 + 91009 for the victim, and notifies (shape A, no eventId), retrying a 503', async () => {
    const receiver = await startReceiver([503]);
    try {
      const standIn = await startStandIn({
        notifications: { url: receiver.url, authorization: 'Bearer secret-token' },
      });
      const survivor = standIn.addMember({ mobile: '66811111111' });
      const victim = standIn.addMember({ email: 'victim@example.com' });
      // Act
      const answer = await fetch(`${standIn.url}/__admin/merge`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ survivor, victim }),
      });
      await standIn.notificationsSettled();
      // Assess
      expect(answer.status).toBe(200);
      expect(standIn.customersWithIdentifier('email', 'victim@example.com').map((c) => c.id)).toEqual([survivor]);
      const read = await fetch(`${standIn.url}/v2/customers/${victim}`, {
        headers: { authorization: STANDIN_BASIC_AUTH },
      });
      expect(((await read.json()) as CapErrors).errors.map((error) => error.code)).toEqual([8069, 91009]);
      expect(receiver.received).toHaveLength(2);
      expect(receiver.received[1]).toEqual({
        authorization: 'Bearer secret-token',
        body: expect.objectContaining({
          eventName: 'loyaltyCustomerMerge',
          data: expect.objectContaining({
            survivorCustomerIdentifiers: { customerId: survivor },
            victimCustomerIdentifiers: { customerId: victim },
          }),
          createdAt: expect.any(Number),
        }),
      });
      expect(receiver.received[1]?.body.eventId).toBeUndefined();
      expect(standIn.notifications()).toEqual([expect.objectContaining({ attempts: 2, status: 200, delivered: true })]);
    } finally {
      await receiver.close();
    }
  });

  it('deletes a customer on a PII request: reads answer 8109, the notification carries an eventId; a 400 is not retried', async () => {
    const receiver = await startReceiver([400]);
    try {
      const standIn = await startStandIn({ notifications: { url: receiver.url, authorization: 'Bearer t' } });
      const customerId = standIn.addMember({ mobile: '66822222222' });
      standIn.deleteCustomer(customerId);
      await standIn.notificationsSettled();
      const read = await fetch(`${standIn.url}/v2/customers/${customerId}/subscriptions`, {
        headers: { authorization: STANDIN_BASIC_AUTH },
      });
      expect(((await read.json()) as CapErrors).errors[0]?.code).toBe(8109);
      expect(receiver.received.map(({ body }) => body)).toEqual([
        expect.objectContaining({
          eventName: 'requestUpdated',
          eventId: expect.any(String),
          requestType: 'CUSTOMER',
          requestBaseType: 'DELETE',
          status: 'APPROVED',
          customerId,
        }),
      ]);
      expect(standIn.notifications()).toEqual([
        expect.objectContaining({ attempts: 1, status: 400, delivered: false }),
      ]);
    } finally {
      await receiver.close();
    }
  });

  describe('merge requests', () => {
    const fileMerge = (url: string, victim: number, survivor: number) =>
      postMergeRequest(url, victim, survivor).then(async (answer) => (await answer.json()) as { createdId?: number });
    const merges = (received: { body: Record<string, unknown> }[]) =>
      received.map(({ body }) => [body.eventName, body.data]);
    const mergeData = (survivor: number, victim: number) =>
      expect.objectContaining({
        survivorCustomerIdentifiers: { customerId: survivor },
        victimCustomerIdentifiers: { customerId: victim },
      });

    it('notifies the merge when Capillary approves a pending request (admin route), and not while it is pending', async () => {
      const receiver = await startReceiver();
      try {
        const standIn = await startStandIn({ notifications: { url: receiver.url, authorization: 'Bearer t' } });
        const survivor = standIn.addMember({ mobile: '66811111111' });
        const victim = standIn.addMember({ email: 'anonymous@example.com' });
        const { createdId } = await fileMerge(standIn.url, victim, survivor);
        await standIn.notificationsSettled();
        expect(receiver.received).toEqual([]);
        // Act
        const answer = await fetch(`${standIn.url}/__admin/merge-requests/approve`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: createdId }),
        });
        await standIn.notificationsSettled();
        // Assess
        expect(await answer.json()).toMatchObject({ status: 'APPROVED', notified: true });
        expect(standIn.customersWithIdentifier('email', 'anonymous@example.com').map((c) => c.id)).toEqual([survivor]);
        expect(merges(receiver.received)).toEqual([['loyaltyCustomerMerge', mergeData(survivor, victim)]]);
        // approving it again merges and notifies nothing more
        standIn.approveMergeRequest(createdId!);
        await standIn.notificationsSettled();
        expect(receiver.received).toHaveLength(1);
      } finally {
        await receiver.close();
      }
    });

    it('approves at once the requests it is told to (notified), leaves the others pending; none notified without a target', async () => {
      const receiver = await startReceiver();
      try {
        const standIn = await startStandIn({ notifications: { url: receiver.url, authorization: 'Bearer t' } });
        const quick = standIn.addMember({ mobile: '66811111111' });
        const slow = standIn.addMember({ mobile: '66822222222' });
        const [first, second, third] = ['a', 'b', 'c'].map((name) =>
          standIn.addMember({ email: `${name}@example.com` }),
        );
        standIn.approveMergesWhenFiled((request) => request.survivorId === quick);
        // Act
        await fileMerge(standIn.url, first!, quick);
        await fileMerge(standIn.url, second!, slow);
        standIn.sendNotificationsTo(undefined);
        await fileMerge(standIn.url, third!, quick);
        await standIn.notificationsSettled();
        // Assess
        expect(standIn.state().mergeRequests.map(({ victimId, status }) => [victimId, status])).toEqual([
          [first, 'APPROVED'],
          [second, 'PENDING'],
          [third, 'APPROVED'],
        ]);
        expect(merges(receiver.received)).toEqual([['loyaltyCustomerMerge', mergeData(quick, first!)]]);
      } finally {
        await receiver.close();
      }
    });
    it('rejects a pending request by PUT /v2/requests (one at a time, its filer: not notified) or the admin route (notified): nothing merges', async () => {
      const receiver = await startReceiver();
      try {
        const standIn = await startStandIn({ notifications: { url: receiver.url, authorization: 'Bearer t' } });
        const survivor = standIn.addMember({ mobile: '66811111111' });
        const [first, second] = ['a', 'b'].map((name) => standIn.addMember({ email: `${name}@example.com` }));
        const one = await fileMerge(standIn.url, first!, survivor);
        const two = await fileMerge(standIn.url, second!, survivor);
        const put = (updates: unknown[]) =>
          fetch(`${standIn.url}/v2/requests`, {
            method: 'PUT',
            headers: { 'content-type': 'application/json', authorization: STANDIN_BASIC_AUTH },
            body: JSON.stringify(updates),
          });
        const update = (id: number | undefined) => ({
          type: 'CHANGE_IDENTIFIER',
          baseType: 'MERGE',
          id,
          status: 'REJECTED',
        });
        // Act
        const bulk = await put([update(one.createdId), update(two.createdId)]);
        const withdrawn = await put([update(one.createdId)]);
        const again = await put([update(one.createdId)]);
        const admin = await fetch(`${standIn.url}/__admin/merge-requests/reject`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: two.createdId }),
        });
        await standIn.notificationsSettled();
        // Assess
        expect([bulk.status, withdrawn.status, again.status, admin.status]).toEqual([400, 200, 400, 200]);
        expect(await withdrawn.json()).toMatchObject({ entityId: one.createdId, failureCount: 0 });
        expect(standIn.state().mergeRequests.map((request) => request.status)).toEqual(['REJECTED', 'REJECTED']);
        expect(standIn.customersWithIdentifier('email', 'a@example.com').map((c) => c.id)).toEqual([first]);
        expect(merges(receiver.received)).toEqual([
          [
            'requestUpdated',
            expect.objectContaining({
              requestBaseType: 'MERGE',
              requestTrackingId: two.createdId,
              status: 'REJECTED',
              customerIdentifiers: { customerId: second },
            }),
          ],
        ]);
      } finally {
        await receiver.close();
      }
    });
  });
});
