import { LineCustomerDirectory } from '../../../lib/capillary/customer-directory';
import { CapillaryHttpClient } from '../../../lib/capillary/http-client';
import { MemberLinker } from '../../../lib/capillary/member-linker';
import type { RateLimiter } from '../../../lib/capillary/rate-limiter';
import type { CapillaryConfig } from '../../../lib/config/capillary-registration';
import { lineUserId } from '../../../local/line-event-factory';
import { LINE_ACCOUNT_ID, RIG_CAPILLARY_AUTH, workerConfigFor } from '../../../local/rigs/worker-rig';
import {
  startCapillaryStandIn,
  subscriptionOf,
  type CapillaryStandIn,
  type CapillaryStandInOptions,
} from '../../../local/standins/capillary-standin';

const call = { deadlineAt: Number.POSITIVE_INFINITY };
/** The rate limit is the limiter's own test (test/lib/store/shared-rate-limiter.test.ts); here every call may go. */
const unlimited: RateLimiter = { take: async () => true };

describe('LineCustomerDirectory against the Capillary stand-in', () => {
  let standIn: CapillaryStandIn;
  const start = async (options: CapillaryStandInOptions = {}) => {
    standIn = await startCapillaryStandIn(options);
  };
  const directory = (overrides: Partial<CapillaryConfig> = {}) => {
    const { capillary, capillaryOrgs } = workerConfigFor('unused', standIn.url, 'http://unused');
    const config = { ...capillary, ...overrides };
    return new LineCustomerDirectory(
      new CapillaryHttpClient({ ...config, ...capillaryOrgs.get('default')!, limiter: unlimited }),
      config,
      LINE_ACCOUNT_ID,
    );
  };
  const businessCalls = () =>
    standIn
      .calls()
      .filter((c) => !c.path.startsWith('/v3/oauth'))
      .map((c) => `${c.method} ${c.path.split('?')[0]}`);
  afterEach(() => standIn.close());

  it('registers INSTORE + LINE on one customer, merged on the shared externalId, opted in inside the LINE add', async () => {
    await start();
    const userId = lineUserId();
    // Act
    const registration = await directory().register(userId, 'Somchai', call);
    // Assess
    expect(registration).toEqual({ customerId: expect.any(Number), subscribed: true, merged: true });
    expect(subscriptionOf(standIn.state(), registration.customerId, 'LINE', LINE_ACCOUNT_ID)).toEqual({
      BULK: 'OPTIN',
      TRANS: 'OPTIN',
    });
    const [customer, ...others] = standIn.customersWithIdentifier('line', userId);
    expect(others).toEqual([]);
    expect(customer!.id).toBe(registration.customerId);
    expect(customer!.profiles.map((p) => p.source)).toEqual(['INSTORE', 'LINE']);
    expect(businessCalls()).toEqual(['POST /v2/customers', 'POST /v2/customers']);
  });

  it('resolves a registration repeated after a lost answer (8006) to the same customer', async () => {
    await start();
    const userId = lineUserId();
    const first = await directory().register(userId, undefined, call);
    // Act
    const again = await directory().register(userId, undefined, call);
    // Assess
    expect(again.customerId).toBe(first.customerId);
    expect(standIn.customersWithIdentifier('line', userId)).toHaveLength(1);
  });

  it('registers the LINE profile alone in line-only mode, opted in inside the same call', async () => {
    await start();
    const userId = lineUserId();
    // Act
    const registration = await directory({ registrationMode: 'line-only' }).register(userId, undefined, call);
    // Assess
    expect(registration.subscribed).toBe(true);
    expect(businessCalls()).toEqual(['POST /v2/customers']);
    expect(subscriptionOf(standIn.state(), registration.customerId, 'LINE', LINE_ACCOUNT_ID)).toEqual({
      BULK: 'OPTIN',
      TRANS: 'OPTIN',
    });
  });

  it('finds a registered LINE user, and nobody for an unknown one', async () => {
    await start();
    const known = lineUserId();
    const { customerId } = await directory().register(known, undefined, call);
    expect(await directory().findProfileHolder(known, call)).toBe(customerId);
    expect(await directory().findProfileHolder(lineUserId(), call)).toBeUndefined();
  });

  const memberLinker = () =>
    new MemberLinker(
      new CapillaryHttpClient({
        baseUrl: standIn.url,
        auth: RIG_CAPILLARY_AUTH,
        timeoutMs: 5000,
        maxAttempts: 1,
        limiter: unlimited,
      }),
      LINE_ACCOUNT_ID,
      { attachMethod: 'add-profile', mergeAutoApprove: false },
    );

  it('finds a member a link attached the LINE profile to (no externalId of the bridge), by the LINE id', async () => {
    await start();
    const userId = lineUserId();
    const memberId = standIn.addMember({ mobile: '66812345678' });
    await memberLinker().attach(memberId, userId, { kind: 'mobile', value: '66812345678' }, call);
    expect(await directory().findProfileHolder(userId, call)).toBe(memberId);
  });

  it('resolves a repeated registration to the customer carrying the LINE profile, not the INSTORE one, after a link moved it', async () => {
    // Prepare: registered, then a link moved the LINE profile to a member (the INSTORE profile stays behind)
    await start();
    const userId = lineUserId();
    const { customerId: registered } = await directory().register(userId, undefined, call);
    const memberId = standIn.addMember({ mobile: '66812345678' });
    await memberLinker().detach(registered, userId, call);
    await memberLinker().attach(memberId, userId, { kind: 'mobile', value: '66812345678' }, call);
    // Act
    const again = await directory().register(userId, undefined, call);
    // Assess
    expect(again.customerId).toBe(memberId);
    expect(standIn.customersWithIdentifier('line', userId).map((customer) => customer.id)).toEqual([memberId]);
  });

  it('answers "nobody" where the org cannot be searched by LINE id (8013), so an unfollow is still recorded', async () => {
    await start({ supportsLineLookup: false });
    expect(await directory({ registrationMode: 'line-only' }).findProfileHolder(lineUserId(), call)).toBeUndefined();
  });

  it('switches to the other LINE channel spelling once when Capillary answers 1101', async () => {
    await start({ acceptedSubscriptionChannels: ['line'] });
    const { customerId } = await directory({ subscribeOnRegister: false }).register(lineUserId(), undefined, call);
    const subscriptions = directory();
    // Act
    await subscriptions.setSubscription(customerId, 'OPTOUT', call);
    await subscriptions.setSubscription(customerId, 'OPTIN', call);
    // Assess: one refused attempt, then the working spelling is kept
    const updates = standIn.calls().filter((c) => c.path.endsWith('/subscriptions'));
    expect(updates.map((c) => c.errorCodes)).toEqual([[1101], [], []]);
    expect(subscriptionOf(standIn.state(), customerId, 'line', LINE_ACCOUNT_ID)).toEqual({
      BULK: 'OPTIN',
      TRANS: 'OPTIN',
    });
  });
});
