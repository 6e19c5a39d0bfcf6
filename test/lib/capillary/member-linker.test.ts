import { CapillaryApiError } from '../../../lib/capillary/errors';
import { CapillaryHttpClient } from '../../../lib/capillary/http-client';
import { MemberLinker, type MemberLinkSettings } from '../../../lib/capillary/member-linker';
import { TAKEN_BY_CALLER } from '../../../lib/capillary/rate-limiter';
import type { CapillaryAuthConfig } from '../../../lib/config/capillary-orgs';
import { lineUserId } from '../../../local/line-event-factory';
import { LINE_ACCOUNT_ID, RIG_CAPILLARY_AUTH } from '../../../local/rigs/worker-rig';
import { startCapillaryStandIn, type CapillaryStandIn } from '../../../local/standins/capillary-standin';

const call = { deadlineAt: Number.POSITIVE_INFINITY };

describe('MemberLinker against the Capillary stand-in', () => {
  let standIn: CapillaryStandIn;
  const linker = (settings: Partial<MemberLinkSettings> = {}, auth: CapillaryAuthConfig = RIG_CAPILLARY_AUTH) =>
    new MemberLinker(
      new CapillaryHttpClient({
        baseUrl: standIn.url,
        auth,
        timeoutMs: 5000,
        maxAttempts: 1,
        limiter: TAKEN_BY_CALLER,
      }),
      LINE_ACCOUNT_ID,
      { attachMethod: 'add-profile', mergeAutoApprove: false, ...settings },
    );
  /** The LINE user ids on the customer's profile of this channel's LINE account. */
  const lineIdsOf = (customerId: number) =>
    standIn
      .state()
      .customers.find((customer) => customer.id === customerId)
      ?.profiles.filter((profile) => profile.source === 'LINE' && profile.accountId === LINE_ACCOUNT_ID)
      .flatMap((profile) => profile.identifiers.filter((i) => i.type === 'line').map((i) => i.value));
  const businessCalls = () =>
    standIn
      .calls()
      .filter((c) => !c.path.startsWith('/v3/oauth'))
      .map((c) => `${c.method} ${c.path.split('?')[0]}`);

  beforeEach(async () => {
    standIn = await startCapillaryStandIn();
  });
  afterEach(() => standIn.close());

  describe('findMember', () => {
    it('finds the member by mobile, email or externalId, and answers undefined for nobody', async () => {
      const memberId = standIn.addMember({ mobile: '66812345678', email: 'somchai@example.com', externalId: 'm-1' });
      const members = linker();

      expect(await members.findMember({ kind: 'mobile', value: '66812345678' }, call)).toBe(memberId);
      expect(await members.findMember({ kind: 'email', value: 'somchai@example.com' }, call)).toBe(memberId);
      expect(await members.findMember({ kind: 'externalId', value: 'm-1' }, call)).toBe(memberId);
      expect(await members.findMember({ kind: 'mobile', value: '66800000000' }, call)).toBeUndefined();
    });

    it('checks that a customer id names a customer', async () => {
      const memberId = standIn.addMember({ mobile: '66812345678' });
      const members = linker();

      expect(await members.findMember({ kind: 'customerId', value: memberId }, call)).toBe(memberId);
      expect(await members.findMember({ kind: 'customerId', value: memberId + 1000 }, call)).toBeUndefined();
    });

    it('throws CapillaryApiError for an answer that is neither a member nor "not found"', async () => {
      const wrongPassword: CapillaryAuthConfig = {
        scheme: 'basic',
        id: 'local.till',
        secret: 'nope',
        oauthHeaderName: '',
      };
      const lookup = linker({}, wrongPassword).findMember({ kind: 'mobile', value: '66812345678' }, call);
      await expect(lookup).rejects.toBeInstanceOf(CapillaryApiError);
      await expect(lookup).rejects.toMatchObject({ operation: 'link-lookup-member', status: 401, codes: [401] });
    });
  });

  describe('attach by adding a LINE profile (add-profile)', () => {
    it("puts the LINE profile on the member, carrying the member's identifier so Capillary merges it", async () => {
      const memberId = standIn.addMember({ mobile: '66812345678' });
      const userId = lineUserId();

      const result = await linker().attach(memberId, userId, { kind: 'mobile', value: '66812345678' }, call);

      expect(result).toEqual({ attached: true });
      expect(lineIdsOf(memberId)).toEqual([userId]);
      expect(await linker().holdsLineId(memberId, userId, call)).toBe(true);
    });

    it("uses the member's own mobile, email or externalId when the reference is a customer id", async () => {
      const memberId = standIn.addMember({ email: 'somchai@example.com' });
      const userId = lineUserId();

      expect(await linker().attach(memberId, userId, { kind: 'customerId', value: memberId }, call)).toEqual({
        attached: true,
      });
      expect(lineIdsOf(memberId)).toEqual([userId]);
    });

    it('attaches nothing to a member with no identifier to merge on', async () => {
      const memberId = standIn.addMember({ cardnumber: 'card-1' });

      expect(await linker().attach(memberId, lineUserId(), { kind: 'customerId', value: memberId }, call)).toEqual({
        attached: false,
        reason: 'member-has-no-mobile-email-or-externalId',
      });
      expect(businessCalls()).toEqual([`GET /v2/customers/${memberId}`]);
    });

    it('takes a repeat of its own earlier success as attached', async () => {
      const memberId = standIn.addMember({ mobile: '66812345678' });
      const userId = lineUserId();
      const reference = { kind: 'mobile', value: '66812345678' } as const;
      await linker().attach(memberId, userId, reference, call);

      expect(await linker().attach(memberId, userId, reference, call)).toEqual({ attached: true });
      expect(lineIdsOf(memberId)).toEqual([userId]);
    });

    it('reports a LINE id another customer holds', async () => {
      const holderId = standIn.addMember({ mobile: '66811111111' });
      const memberId = standIn.addMember({ mobile: '66822222222' });
      const userId = lineUserId();
      await linker().attach(holderId, userId, { kind: 'mobile', value: '66811111111' }, call);

      expect(await linker().attach(memberId, userId, { kind: 'mobile', value: '66822222222' }, call)).toEqual({
        attached: false,
        reason: 'line-id-taken',
      });
      expect(lineIdsOf(memberId)).toEqual([]);
    });

    it('reports, never takes as a link, a profile Capillary combined with another customer', async () => {
      const otherId = standIn.addMember({ mobile: '66811111111' });
      const memberId = standIn.addMember({ mobile: '66822222222' });

      expect(await linker().attach(memberId, lineUserId(), { kind: 'mobile', value: '66811111111' }, call)).toEqual({
        attached: false,
        reason: `capillary-merged-into-customer-${otherId}`,
      });
    });
  });

  describe('attach by changing identifiers (change-identifier)', () => {
    it("adds the LINE id to the member's profile of this account, and takes a repeat as attached", async () => {
      const memberId = standIn.addMember({ mobile: '66812345678' });
      const userId = lineUserId();
      const members = linker({ attachMethod: 'change-identifier' });
      const reference = { kind: 'customerId', value: memberId } as const;

      expect(await members.attach(memberId, userId, reference, call)).toEqual({ attached: true });
      expect(await members.attach(memberId, userId, reference, call)).toEqual({ attached: true });
      expect(lineIdsOf(memberId)).toEqual([userId]);
    });

    it('reports a LINE id another customer holds', async () => {
      const holderId = standIn.addMember({ mobile: '66811111111' });
      const memberId = standIn.addMember({ mobile: '66822222222' });
      const userId = lineUserId();
      const members = linker({ attachMethod: 'change-identifier' });
      await members.attach(holderId, userId, { kind: 'customerId', value: holderId }, call);

      expect(await members.attach(memberId, userId, { kind: 'customerId', value: memberId }, call)).toEqual({
        attached: false,
        reason: 'line-id-taken',
      });
    });

    it('throws CapillaryApiError when the customer is unknown', async () => {
      const members = linker({ attachMethod: 'change-identifier' });
      await expect(members.attach(123, lineUserId(), { kind: 'customerId', value: 123 }, call)).rejects.toMatchObject({
        name: 'CapillaryApiError',
        operation: 'link-add-line-id',
        codes: [8009],
      });
    });
  });

  describe('detach', () => {
    it("takes every identifier of the channel's LINE profile off, and does nothing when it is already off", async () => {
      const memberId = standIn.addMember({ mobile: '66812345678' });
      const userId = lineUserId();
      await linker().attach(memberId, userId, { kind: 'mobile', value: '66812345678' }, call);

      await linker().detach(memberId, userId, call);
      expect(lineIdsOf(memberId)).toEqual([]);
      expect(standIn.customersWithIdentifier('line', userId)).toEqual([]);

      const callsBefore = businessCalls().length;
      await linker().detach(memberId, userId, call);
      expect(businessCalls().slice(callsBefore)).toEqual([`GET /v2/customers/${memberId}`]);
    });

    it('does nothing for a customer Capillary does not know', async () => {
      await linker().detach(123, lineUserId(), call);
      expect(businessCalls()).toEqual(['GET /v2/customers/123']);
    });
  });

  describe('removeInstoreIdentifier', () => {
    it("takes an identifier a merge carried onto the member's INSTORE profile off (source=INSTORE), once", async () => {
      const memberId = standIn.addMember({ mobile: '66812345678' });
      const externalId = { type: 'externalId', value: `line_${lineUserId()}` };
      standIn.mergeCustomers(memberId, standIn.addMember({ externalId: externalId.value }));

      expect(await linker().removeInstoreIdentifier(memberId, externalId, call)).toBe(true);
      expect(standIn.customersWithIdentifier('externalId', externalId.value)).toEqual([]);
      expect(standIn.customersWithIdentifier('mobile', '66812345678').map((c) => c.id)).toEqual([memberId]);
      expect(standIn.calls().find((c) => c.path.includes('changeIdentifier'))?.path).toBe(
        `/v2/customers/${memberId}/changeIdentifier?source=INSTORE`,
      );

      const callsBefore = businessCalls().length;
      expect(await linker().removeInstoreIdentifier(memberId, externalId, call)).toBe(true);
      expect(businessCalls().slice(callsBefore)).toEqual([`GET /v2/customers/${memberId}`]);
    });

    it('leaves an identifier only a LINE profile carries, and a customer Capillary does not know', async () => {
      const memberId = standIn.addMember({ mobile: '66812345678' });
      const userId = lineUserId();
      await linker().attach(memberId, userId, { kind: 'mobile', value: '66812345678' }, call);

      expect(await linker().removeInstoreIdentifier(memberId, { type: 'line', value: userId }, call)).toBe(true);
      expect(await linker().removeInstoreIdentifier(123, { type: 'line', value: userId }, call)).toBe(true);
      expect(lineIdsOf(memberId)).toEqual([userId]);
      expect(businessCalls().filter((c) => c.includes('changeIdentifier'))).toEqual([]);
    });
  });

  describe('requestMerge', () => {
    it('files the merge, which stays pending for review', async () => {
      const victimId = standIn.addMember({ mobile: '66811111111' });
      const survivorId = standIn.addMember({ mobile: '66822222222' });

      const request = await linker().requestMerge(victimId, survivorId, call);

      expect(request).toEqual({ outcome: 'filed', requestId: expect.any(Number), status: 'PENDING' });
      expect(standIn.state().mergeRequests).toEqual([
        { id: (request as { requestId: number }).requestId, victimId, survivorId, status: 'PENDING' },
      ]);
    });

    it('asks for auto-approval when configured, and reports the approved state', async () => {
      const victimId = standIn.addMember({ mobile: '66811111111' });
      const survivorId = standIn.addMember({ mobile: '66822222222' });

      const request = await linker({ mergeAutoApprove: true }).requestMerge(victimId, survivorId, call);

      expect(request).toMatchObject({ outcome: 'filed', status: 'APPROVED' });
      expect(standIn.state().customers.map((customer) => customer.id)).toEqual([survivorId]);
    });

    it('answers pending for a victim with a pending request (9018) and merged for one merged already (9023)', async () => {
      const victimId = standIn.addMember({ mobile: '66811111111' });
      const survivorId = standIn.addMember({ mobile: '66822222222' });
      const first = await linker().requestMerge(victimId, survivorId, call);
      expect(await linker().requestMerge(victimId, survivorId, call)).toEqual({
        outcome: 'pending',
        detail: 'already-pending',
      });
      standIn.approveMergeRequest((first as { requestId: number }).requestId);
      expect(await linker().requestMerge(victimId, survivorId, call)).toEqual({ outcome: 'merged' });
      expect(standIn.state().mergeRequests).toHaveLength(1);
    });

    it('throws on a lost answer (the event is retried), and its retry files nothing twice: 9018 names the first', async () => {
      const victimId = standIn.addMember({ mobile: '66811111111' });
      const survivorId = standIn.addMember({ mobile: '66822222222' });
      standIn.injectFault({ kind: 'lost-response', method: 'POST', pathPrefix: '/v2/requests', times: 1 });
      const retrying = new MemberLinker(
        new CapillaryHttpClient({
          baseUrl: standIn.url,
          auth: RIG_CAPILLARY_AUTH,
          timeoutMs: 5000,
          maxAttempts: 3,
          limiter: TAKEN_BY_CALLER,
          sleep: async () => undefined,
        }),
        LINE_ACCOUNT_ID,
        { attachMethod: 'add-profile', mergeAutoApprove: false },
      );
      await expect(retrying.requestMerge(victimId, survivorId, call)).rejects.toMatchObject({
        name: 'CapillaryUnavailableError',
        attempts: 1,
      });
      expect(businessCalls().filter((c) => c === 'POST /v2/requests')).toHaveLength(1);
      // the event's retry
      expect(await retrying.requestMerge(victimId, survivorId, call)).toEqual({
        outcome: 'pending',
        detail: 'already-pending',
      });
      expect(standIn.state().mergeRequests).toHaveLength(1);
    });

    it('files on the retry a request whose lost answer Capillary never ran (a timeout before it)', async () => {
      const victimId = standIn.addMember({ mobile: '66811111111' });
      const survivorId = standIn.addMember({ mobile: '66822222222' });
      standIn.injectFault({ kind: 'timeout', delayMs: 0, method: 'POST', pathPrefix: '/v2/requests', times: 1 });
      await expect(linker().requestMerge(victimId, survivorId, call)).rejects.toMatchObject({
        name: 'CapillaryUnavailableError',
      });
      expect(standIn.state().mergeRequests).toHaveLength(0);
      expect(await linker().requestMerge(victimId, survivorId, call)).toMatchObject({ outcome: 'filed' });
      expect(standIn.state().mergeRequests).toHaveLength(1);
    });

    it('throws CustomerGoneError for a victim merged away into someone else (8069)', async () => {
      const victimId = standIn.addMember({ mobile: '66811111111' });
      const survivorId = standIn.addMember({ mobile: '66822222222' });
      const otherId = standIn.addMember({ mobile: '66833333333' });
      const filed = await linker().requestMerge(victimId, survivorId, call);
      standIn.approveMergeRequest((filed as { requestId: number }).requestId);
      await expect(linker().requestMerge(victimId, otherId, call)).rejects.toMatchObject({
        name: 'CustomerGoneError',
        customerId: victimId,
        codes: [8069],
      });
    });

    it('throws CapillaryApiError when Capillary files nothing', async () => {
      const survivorId = standIn.addMember({ mobile: '66822222222' });
      await expect(linker().requestMerge(123, survivorId, call)).rejects.toMatchObject({
        name: 'CapillaryApiError',
        operation: 'link-merge-request',
        codes: [8009],
      });
    });
  });
  describe('withdrawMerge', () => {
    async function filed() {
      const victimId = standIn.addMember({ mobile: '66811111111' });
      const survivorId = standIn.addMember({ mobile: '66822222222' });
      const request = await linker().requestMerge(victimId, survivorId, call);
      return { victimId, survivorId, requestId: (request as { requestId: number }).requestId };
    }

    it('withdraws a pending request (PUT /v2/requests, REJECTED): nothing merges, and the victim may be filed again', async () => {
      const { victimId, survivorId, requestId } = await filed();

      expect(await linker().withdrawMerge(String(requestId), call)).toBe('REJECTED');

      expect(standIn.state().mergeRequests).toEqual([{ id: requestId, victimId, survivorId, status: 'REJECTED' }]);
      expect(businessCalls().at(-1)).toBe('PUT /v2/requests');
      expect(await linker().requestMerge(victimId, survivorId, call)).toMatchObject({ outcome: 'filed' });
    });

    it('reads the status of a request Capillary reviewed in between: approved stays approved', async () => {
      const { requestId } = await filed();
      standIn.approveMergeRequest(requestId);

      expect(await linker().withdrawMerge(String(requestId), call)).toBe('APPROVED');
      expect(businessCalls().slice(-2)).toEqual(['PUT /v2/requests', `GET /v2/requests/${requestId}`]);
    });

    it('reads the status of a request Capillary refused to withdraw: still pending', async () => {
      const { requestId } = await filed();
      standIn.injectFault({ status: 400, code: 9999, method: 'PUT', pathPrefix: '/v2/requests', times: 1 });

      expect(await linker().withdrawMerge(String(requestId), call)).toBe('PENDING');
      expect(standIn.state().mergeRequests[0]?.status).toBe('PENDING');
    });

    it('throws CapillaryUnavailableError when Capillary is down, so the event is retried', async () => {
      const { requestId } = await filed();
      standIn.injectFault({ status: 500, method: 'PUT', pathPrefix: '/v2/requests', times: 1 });

      await expect(linker().withdrawMerge(String(requestId), call)).rejects.toMatchObject({
        name: 'CapillaryUnavailableError',
      });
      expect(standIn.state().mergeRequests[0]?.status).toBe('PENDING');
    });
  });
});
