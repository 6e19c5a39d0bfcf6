import { addCustomer, lineSubscriptions, lookupCustomer, requireCustomer } from '../../../lib/capillary/customer-calls';
import { CapillaryApiError, CustomerNotResolvedError, LookupUnsupportedError } from '../../../lib/capillary/errors';
import { CapillaryHttpClient } from '../../../lib/capillary/http-client';
import { TAKEN_BY_CALLER } from '../../../lib/capillary/rate-limiter';
import { lineUserId } from '../../../local/line-event-factory';
import { LINE_ACCOUNT_ID, RIG_CAPILLARY_AUTH } from '../../../local/rigs/worker-rig';
import {
  startCapillaryStandIn,
  type CapillaryStandIn,
  type CapillaryStandInOptions,
} from '../../../local/standins/capillary-standin';

const call = { deadlineAt: Number.POSITIVE_INFINITY };

describe('lineSubscriptions', () => {
  it('gives both priorities of the LINE channel for this account, with the org unit when there is one', () => {
    expect(lineSubscriptions({ orgUnitId: 7 }, LINE_ACCOUNT_ID, 'LINE', 'OPTOUT')).toEqual([
      {
        channel: 'LINE',
        priority: 'BULK',
        type: 'OPTOUT',
        accountId: LINE_ACCOUNT_ID,
        sourceName: 'LINE',
        orgUnitId: 7,
      },
      {
        channel: 'LINE',
        priority: 'TRANS',
        type: 'OPTOUT',
        accountId: LINE_ACCOUNT_ID,
        sourceName: 'LINE',
        orgUnitId: 7,
      },
    ]);
    expect(lineSubscriptions({ orgUnitId: undefined }, LINE_ACCOUNT_ID, 'line', 'OPTIN')[0]).toEqual({
      channel: 'line',
      priority: 'BULK',
      type: 'OPTIN',
      accountId: LINE_ACCOUNT_ID,
      sourceName: 'LINE',
    });
  });
});

describe('customer calls against the Capillary stand-in', () => {
  let standIn: CapillaryStandIn;
  let http: CapillaryHttpClient;
  const start = async (options: CapillaryStandInOptions = {}) => {
    standIn = await startCapillaryStandIn(options);
    http = new CapillaryHttpClient({
      baseUrl: standIn.url,
      auth: RIG_CAPILLARY_AUTH,
      timeoutMs: 5000,
      maxAttempts: 1,
      limiter: TAKEN_BY_CALLER,
    });
  };
  const lineProfile = (userId: string, identifiers: { type: string; value: string }[] = []) => ({
    identifiers: [{ type: 'line', value: userId }, ...identifiers],
    source: 'LINE',
    accountId: LINE_ACCOUNT_ID,
  });
  const optIn = () => ({ subscriptions: lineSubscriptions({ orgUnitId: -1 }, LINE_ACCOUNT_ID, 'LINE', 'OPTIN') });
  afterEach(() => standIn.close());

  describe('addCustomer', () => {
    it('answers the created customer, subscribed when the opt-in travelled along', async () => {
      await start();
      expect(await addCustomer(http, call, 'add', [lineProfile(lineUserId())], optIn())).toEqual({
        outcome: 'created',
        customerId: expect.any(Number),
        merged: false,
        subscribed: true,
        optInNotSet: false,
      });
      expect(await addCustomer(http, call, 'add', [lineProfile(lineUserId())])).toMatchObject({
        outcome: 'created',
        subscribed: false,
        optInNotSet: false,
      });
    });

    it('says when Capillary merged the profile into a customer holding the shared identifier (8050)', async () => {
      await start();
      const memberId = standIn.addMember({ externalId: 'line_x' });
      expect(
        await addCustomer(http, call, 'add', [lineProfile(lineUserId(), [{ type: 'externalId', value: 'line_x' }])]),
      ).toMatchObject({ outcome: 'created', customerId: memberId, merged: true });
    });

    it('says when the customer was made but the opt-in was not set (warning 91022)', async () => {
      await start({ subscriptionInfoOnAdd: 'warning' });
      expect(await addCustomer(http, call, 'add', [lineProfile(lineUserId())], optIn())).toMatchObject({
        outcome: 'created',
        subscribed: false,
        optInNotSet: true,
      });
    });

    it('answers "exists" for a profile Capillary has (8006), and "failed" with the error otherwise', async () => {
      await start({ subscriptionInfoOnAdd: 'refused' });
      const userId = lineUserId();
      await addCustomer(http, call, 'add', [lineProfile(userId)]);

      expect(await addCustomer(http, call, 'add', [lineProfile(userId)])).toEqual({
        outcome: 'exists',
        subscribed: false,
      });
      const refused = await addCustomer(http, call, 'add-customer-line', [lineProfile(lineUserId())], optIn());
      expect(refused).toEqual({ outcome: 'failed', error: expect.any(CapillaryApiError) });
      expect(refused).toMatchObject({ error: { operation: 'add-customer-line', status: 400 } });
    });
  });

  describe('lookupCustomer and requireCustomer', () => {
    it('find a customer by identifier, naming the LINE account for a LINE lookup', async () => {
      await start();
      const userId = lineUserId();
      const added = await addCustomer(http, call, 'add', [lineProfile(userId)]);
      const customerId = (added as { customerId: number }).customerId;
      const byLine = { source: 'LINE', identifierName: 'line', identifierValue: userId };

      expect(await lookupCustomer(http, LINE_ACCOUNT_ID, byLine, call)).toBe(customerId);
      expect(await requireCustomer(http, LINE_ACCOUNT_ID, byLine, call)).toBe(customerId);
      expect(await lookupCustomer(http, 'another-account', byLine, call)).toBeUndefined();
      expect(standIn.calls().at(-1)!.path).toContain(`accountId=another-account`);
    });

    it('answer undefined, or throw CustomerNotResolvedError when a customer is required, for nobody', async () => {
      await start();
      const nobody = { source: 'INSTORE', identifierName: 'externalId', identifierValue: 'line_nobody' };
      expect(await lookupCustomer(http, LINE_ACCOUNT_ID, nobody, call)).toBeUndefined();
      expect(standIn.calls().at(-1)!.path).not.toContain('accountId');
      await expect(requireCustomer(http, LINE_ACCOUNT_ID, nobody, call)).rejects.toThrow(
        new CustomerNotResolvedError('INSTORE/externalId'),
      );
    });

    it('throw LookupUnsupportedError for an identifier the org cannot be searched by (8013)', async () => {
      await start({ supportsLineLookup: false });
      const byLine = { source: 'LINE', identifierName: 'line', identifierValue: lineUserId() };
      await expect(lookupCustomer(http, LINE_ACCOUNT_ID, byLine, call)).rejects.toBeInstanceOf(LookupUnsupportedError);
    });

    it('throw CapillaryApiError for any other failure', async () => {
      await start();
      const badSource = { source: 'NOPE', identifierName: 'externalId', identifierValue: 'x' };
      await expect(lookupCustomer(http, LINE_ACCOUNT_ID, badSource, call)).rejects.toMatchObject({
        name: 'CapillaryApiError',
        operation: 'lookup-customer',
        codes: [8012],
      });
    });
  });
});
