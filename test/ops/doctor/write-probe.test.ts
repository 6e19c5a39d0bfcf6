import type { CapillaryOrgConfig } from '../../../lib/config/capillary-orgs';
import type { AttachMethod } from '../../../lib/domain/link-rules';
import { LOCAL_CREDENTIALS } from '../../../local/local-credentials';
import {
  startCapillaryStandIn,
  type CapillaryStandIn,
  type CapillaryStandInOptions,
} from '../../../local/standins/capillary-standin';
import { authenticate } from '../../../ops/doctor/capillary-checks';
import type { CheckResult } from '../../../ops/doctor/check';
import { probeWrites, type WriteProbeTarget } from '../../../ops/doctor/write-probe';
import { closedAfterEach } from '../../support/closed-after-each';

const startCapillary = closedAfterEach(startCapillaryStandIn);
const ACCOUNT = 'line-th';
const MOBILE = '66800000001';
const SETTINGS: WriteProbeTarget['capillary'] = {
  subscriptionChannel: 'LINE',
  orgUnitId: -1,
  subscribeOnRegister: true,
  registerProfilesTogether: false,
  registrationMode: 'instore+line',
};

const orgAt = (baseUrl: string): CapillaryOrgConfig => ({
  id: 'default',
  baseUrl,
  auth: {
    scheme: 'oauth',
    id: LOCAL_CREDENTIALS.capillaryClientKey,
    secret: LOCAL_CREDENTIALS.capillaryClientSecret,
    oauthHeaderName: 'X-CAP-API-OAUTH-TOKEN',
  },
  rateLimitPerMinute: 100,
});
const admin = (standIn: CapillaryStandIn, route: string, body: unknown) =>
  fetch(`${standIn.url}/__admin/${route}`, { method: 'POST', body: JSON.stringify(body) });
const byCheck = (results: CheckResult[]) => Object.fromEntries(results.map((result) => [result.check, result]));
const statuses = (results: CheckResult[]) => Object.fromEntries(results.map(({ check, status }) => [check, status]));

/** The org as the stand-in plays it, with the test customer (an INSTORE member with MOBILE) unless told otherwise. */
async function org(options: CapillaryStandInOptions = {}, member = true) {
  const standIn = await startCapillary(options);
  const customerId = member ? standIn.addMember({ mobile: MOBILE }) : undefined;
  return { standIn, customerId };
}

async function probe(
  standIn: CapillaryStandIn,
  settings: Partial<WriteProbeTarget['capillary']> = {},
  attachMethod: AttachMethod = 'add-profile',
) {
  const target = orgAt(standIn.url);
  const { headers } = await authenticate('Capillary default', target, []);
  return probeWrites({
    org: target,
    channel: { id: 'th', capillaryLineAccountId: ACCOUNT },
    capillary: { ...SETTINGS, ...settings },
    attachMethod,
    mobile: MOBILE,
    headers,
  });
}

/** The test customer after the probe: its profiles' identifiers and its LINE subscription, by priority. */
function afterwards(standIn: CapillaryStandIn, customerId: number | undefined) {
  const state = standIn.state();
  const customer = state.customers.find(({ id }) => id === customerId);
  return {
    customers: state.customers.length,
    profiles: customer?.profiles.map(({ source, identifiers }) => ({ source, identifiers })),
    subscriptions: Object.fromEntries(
      (customer?.subscriptions ?? [])
        .filter(({ accountId }) => accountId === ACCOUNT)
        .map(({ priority, type }) => [priority, type]),
    ),
  };
}

/** POST faults on /v2/customers… in the order the probe writes: 2 subscription calls before the LINE add. */
const refuseLineAdds = (standIn: CapillaryStandIn) =>
  admin(standIn, 'faults', { status: 400, code: 8003, method: 'POST', pathPrefix: '/v2/customers', skip: 2, times: 2 });

describe('doctor: the write probe', () => {
  it('finds what the org accepts on the test customer, prints the settings, and leaves the customer as it was', async () => {
    // Prepare
    const { standIn, customerId } = await org();
    // Act
    const results = await probe(standIn);
    // Assess
    expect(statuses(results)).toEqual({
      'test customer': 'pass',
      'subscription channel': 'pass',
      'opt-in inside the add': 'pass',
      'both profiles in one add': 'unknown',
      'link method': 'pass',
      '`line` lookups': 'pass',
    });
    const checks = byCheck(results);
    expect(checks['opt-in inside the add']?.detail).toContain('capillarySubscribeOnRegister=true (as set)');
    expect(checks['link method']?.detail).toMatch(
      /^capillaryLinkMethod=add-profile \(as set\) works: a LINE add with the member's mobile merged into the test customer \(undone\); change-identifier not probed$/,
    );
    expect(checks['both profiles in one add']?.detail).toContain('not probed: it would make a customer');
    // Nothing left behind: no other customer, no LINE profile, the subscription it had none of left OPTOUT.
    expect(afterwards(standIn, customerId)).toEqual({
      customers: 1,
      profiles: [{ source: 'INSTORE', identifiers: [{ type: 'mobile', value: MOBILE }] }],
      subscriptions: { BULK: 'OPTOUT', TRANS: 'OPTOUT' },
    });
  });

  it("puts an opted-in test customer's subscription back to OPTIN", async () => {
    // Prepare
    const { standIn, customerId } = await org();
    const subscription = (priority: string) => ({ channel: 'LINE', priority, type: 'OPTIN', accountId: ACCOUNT });
    await fetch(`${standIn.url}/v2/customers/${customerId}/subscriptions`, {
      method: 'POST',
      headers: (await authenticate('Capillary default', orgAt(standIn.url), [])).headers,
      body: JSON.stringify({
        communicationId: -1,
        campaignId: -1,
        reason: 'test',
        scope: { scope: 'USER', subScope: 'NONE' },
        subscriptions: [subscription('BULK'), subscription('TRANS')],
      }),
    });
    // Act
    const results = await probe(standIn);
    // Assess
    expect(byCheck(results)['opt-in inside the add']?.status).toBe('pass');
    expect(afterwards(standIn, customerId).subscriptions).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
  });

  it('names the literal to set when the configured one is refused', async () => {
    // Prepare
    const { standIn, customerId } = await org();
    await admin(standIn, 'faults', {
      status: 400,
      code: 1101,
      method: 'POST',
      pathPrefix: `/v2/customers/${customerId}/subscriptions`,
      times: 1,
    });
    // Act
    const channel = byCheck(await probe(standIn))['subscription channel'];
    // Assess
    expect(channel).toMatchObject({ status: 'fail', fix: 'set capillarySubscriptionChannel=line' });
  });

  it.each([
    ['warning', /the add answered warning 91022/],
    ['refused', /the add was refused with it \(HTTP 400, codes 400\) and made without it/],
    ['ignored', /the add was accepted, but the LINE subscription reads OPTOUT: the org ignores it silently/],
  ] as const)(
    'fails the opt-in inside the add where the org answers it as %s, naming capillarySubscribeOnRegister=false',
    async (answer, detail) => {
      // Prepare
      const { standIn, customerId } = await org({ subscriptionInfoOnAdd: answer });
      // Act
      const results = byCheck(await probe(standIn));
      // Assess
      expect(results['opt-in inside the add']).toMatchObject({
        status: 'fail',
        detail: expect.stringMatching(detail),
        fix: expect.stringContaining('set capillarySubscribeOnRegister=false'),
      });
      expect(results['link method']?.status).toBe('pass');
      expect(afterwards(standIn, customerId).customers).toBe(1);
    },
  );

  it('passes capillarySubscribeOnRegister=false where the org refuses the opt-in, and names true where it applies it', async () => {
    // Prepare
    const { standIn: refusing } = await org({ subscriptionInfoOnAdd: 'refused' });
    const { standIn: applying } = await org();
    // Act
    const refused = byCheck(await probe(refusing, { subscribeOnRegister: false }))['opt-in inside the add'];
    const applied = byCheck(await probe(applying, { subscribeOnRegister: false }))['opt-in inside the add'];
    // Assess
    expect(refused).toMatchObject({ status: 'pass', detail: expect.stringContaining('(as set)') });
    expect(applied).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('set capillarySubscribeOnRegister=true'),
    });
  });

  it('probes changeIdentifier when it is the link method set, and undoes it', async () => {
    // Prepare
    const { standIn, customerId } = await org();
    // Act
    const link = byCheck(await probe(standIn, {}, 'change-identifier'))['link method'];
    // Assess
    expect(link).toMatchObject({
      status: 'pass',
      detail: expect.stringMatching(
        /^capillaryLinkMethod=change-identifier \(as set\) works: changeIdentifier add line attached the id \(undone\)/,
      ),
    });
    expect(afterwards(standIn, customerId).profiles).toEqual([
      { source: 'INSTORE', identifiers: [{ type: 'mobile', value: MOBILE }] },
    ]);
  });

  it('says what to remove by hand when taking the attached LINE id off fails', async () => {
    // Prepare
    const { standIn, customerId } = await org();
    const path = `/v2/customers/${customerId}/changeIdentifier`;
    await admin(standIn, 'faults', { status: 500, method: 'POST', pathPrefix: path, times: 1 });
    // Act
    const link = byCheck(await probe(standIn))['link method'];
    // Assess
    expect(link?.detail).toMatch(
      new RegExp(
        `\\(NOT undone \\(HTTP 500, codes 500\\): remove LINE id U[0-9a-f]{32} of account ${ACCOUNT} from customer ${customerId} by hand\\)`,
      ),
    );
  });

  it('names change-identifier where the LINE add is refused and changeIdentifier attaches; the add-dependent lines are unknown', async () => {
    // Prepare
    const { standIn } = await org();
    await refuseLineAdds(standIn);
    // Act
    const results = byCheck(await probe(standIn));
    // Assess
    expect(results['link method']).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining(
        "add-profile does not attach: a LINE add with the member's mobile was refused (HTTP 400, codes 8003)",
      ),
      fix: 'set capillaryLinkMethod=change-identifier',
    });
    expect(results['opt-in inside the add']?.status).toBe('unknown');
    expect(results['`line` lookups']?.status).toBe('unknown');
  });

  it('fails when neither method attaches, asking Capillary', async () => {
    // Prepare
    const { standIn, customerId } = await org();
    await refuseLineAdds(standIn);
    await admin(standIn, 'faults', {
      status: 400,
      code: 8013,
      method: 'POST',
      pathPrefix: `/v2/customers/${customerId}/changeIdentifier`,
      times: 1,
    });
    // Act
    const link = byCheck(await probe(standIn))['link method'];
    // Assess
    expect(link).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('changeIdentifier add line was refused (HTTP 400, codes 8013)'),
      fix: expect.stringContaining('ask Capillary how the org attaches a LINE profile to a member'),
    });
  });

  it('reads `line` lookups: refused is fine in instore+line mode, and fails line-only mode with the setting', async () => {
    // Prepare
    const { standIn: instore } = await org({ supportsLineLookup: false });
    const { standIn: lineOnly } = await org({ supportsLineLookup: false });
    // Act
    const tolerated = byCheck(await probe(instore))['`line` lookups'];
    const refused = byCheck(await probe(lineOnly, { registrationMode: 'line-only' }))['`line` lookups'];
    // Assess
    expect(tolerated).toMatchObject({ status: 'pass', detail: expect.stringContaining('refused (8013)') });
    expect(refused).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('capillaryRegistrationMode=instore+line'),
    });
  });

  it('does not attach to a test customer who holds a LINE user of the account already', async () => {
    // Prepare
    const { standIn, customerId } = await org();
    await fetch(`${standIn.url}/v2/customers/${customerId}/changeIdentifier?source=LINE&accountId=${ACCOUNT}`, {
      method: 'POST',
      headers: (await authenticate('Capillary default', orgAt(standIn.url), [])).headers,
      body: JSON.stringify({ add: [{ type: 'line', value: `U${'1'.repeat(32)}` }] }),
    });
    // Act
    const results = await probe(standIn);
    // Assess
    expect(statuses(results)).toEqual({
      'test customer': 'pass',
      'subscription channel': 'pass',
      'opt-in inside the add': 'unknown',
      'link method': 'unknown',
      '`line` lookups': 'unknown',
    });
    expect(byCheck(results)['link method']?.fix).toContain('who holds no LINE user of this account');
  });

  it('fails without a test customer, naming how to make one', async () => {
    // Prepare
    const { standIn } = await org({}, false);
    // Act
    const results = await probe(standIn);
    // Assess
    expect(results).toEqual([
      expect.objectContaining({
        check: 'test customer',
        status: 'fail',
        fix: expect.stringContaining('register a test customer'),
      }),
    ]);
  });
});
