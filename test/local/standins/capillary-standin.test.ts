import { createHash } from 'node:crypto';

import { maskUserId } from '../../../lib/observability/telemetry';
import { lineUserId } from '../../../local/line-event-factory';
import {
  LOCAL_BEHAVIOURAL_EVENTS_CREDENTIALS,
  LOCAL_BEHAVIOURAL_EVENTS_INTEGRATION,
} from '../../../local/standins/behavioural-events-ingest';
import {
  startCapillaryStandIn,
  subscriptionOf,
  UnknownCustomerError,
  type CapillaryStandIn,
  type CapillaryState,
} from '../../../local/standins/capillary-standin';
import { closedAfterEach } from '../../support/closed-after-each';

const LINE_ACCOUNT = '2001914141242';
const OTHER_LINE_ACCOUNT = '2009999999999';

interface EnvelopeItem {
  status: boolean;
  code: number;
  message: string;
}

interface CapBody {
  createdId?: number;
  entity?: number;
  warnings?: EnvelopeItem[];
  errors?: EnvelopeItem[] | null;
  data?: { accessToken: string; ttlSeconds: number } | null;
  [field: string]: unknown;
}

interface CapReply {
  status: number;
  body: CapBody;
  requestId: string | null;
}

const startStandIn = closedAfterEach(startCapillaryStandIn);

function basicAuth(password = 'local-password'): Record<string, string> {
  const digest = createHash('md5').update(password).digest('hex');
  return { authorization: `Basic ${Buffer.from(`local.till:${digest}`).toString('base64')}` };
}

async function call(
  standIn: CapillaryStandIn,
  method: string,
  path: string,
  body?: unknown,
  headers = basicAuth(),
): Promise<CapReply> {
  const response = await fetch(`${standIn.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as CapBody,
    requestId: response.headers.get('x-cap-requestid'),
  };
}

function lineProfile(userId: string, overrides: Record<string, unknown> = {}) {
  return {
    firstName: 'Somchai',
    source: 'LINE',
    accountId: LINE_ACCOUNT,
    identifiers: [{ type: 'line', value: userId }],
    commChannels: [{ type: 'line', value: userId, primary: true, verified: true, meta: { residence: true } }],
    ...overrides,
  };
}

function instoreProfile(mobile: string) {
  return { firstName: 'Somchai', source: 'INSTORE', identifiers: [{ type: 'mobile', value: mobile }] };
}

function customerBody(...profiles: unknown[]) {
  return { loyaltyInfo: { loyaltyType: 'non_loyalty' }, profiles, extendedFields: {} };
}

function lineSubscription(type: string, priority: string, overrides: Record<string, unknown> = {}) {
  return { channel: 'LINE', priority, type, accountId: LINE_ACCOUNT, sourceName: 'LINE', orgUnitId: -1, ...overrides };
}

function subscriptionBody(type: string, overrides: Record<string, unknown> = {}) {
  return {
    communicationId: -1,
    campaignId: -1,
    reason: 'LINE follow event',
    scope: { scope: 'USER', subScope: 'NONE' },
    subscriptions: [lineSubscription(type, 'BULK'), lineSubscription(type, 'TRANS')],
    ...overrides,
  };
}

function lookupPath(userId: string, extra = `&accountId=${LINE_ACCOUNT}`): string {
  return `/v2/customers/lookup?source=LINE${extra}&identifierName=line&identifierValue=${userId}`;
}

async function registerLineUser(
  standIn: CapillaryStandIn,
  userId = lineUserId(),
): Promise<{ userId: string; customerId: number }> {
  const { body } = await call(standIn, 'POST', '/v2/customers', customerBody(lineProfile(userId)));
  if (body.createdId === undefined) throw new Error(`registration failed: ${JSON.stringify(body)}`);
  return { userId, customerId: body.createdId };
}

function codesOf(items: EnvelopeItem[] | null | undefined): number[] {
  return (items ?? []).map((item) => item.code);
}

describe('Capillary stand-in: authentication', () => {
  it('issues an OAuth token that authenticates /v2 calls through X-CAP-API-OAUTH-TOKEN', async () => {
    // Prepare
    const standIn = await startStandIn();
    const token = await call(
      standIn,
      'POST',
      '/v3/oauth/token/generate',
      { key: 'local-client-key', secret: 'local-client-secret' },
      {},
    );

    // Act
    const lookup = await call(standIn, 'GET', lookupPath(lineUserId()), undefined, {
      'X-CAP-API-OAUTH-TOKEN': token.body.data?.accessToken ?? '',
    });

    // Assess
    expect(token.status).toBe(200);
    expect(token.body).toEqual({ data: { accessToken: expect.any(String), ttlSeconds: 3600 }, errors: null });
    expect(codesOf(lookup.body.errors)).toEqual([8015]);
  });

  it('refuses bad client credentials with the documented message', async () => {
    // Prepare
    const standIn = await startStandIn();

    // Act
    const reply = await call(
      standIn,
      'POST',
      '/v3/oauth/token/generate',
      { key: 'local-client-key', secret: 'wrong' },
      {},
    );

    // Assess
    expect(reply.status).toBe(401);
    expect(reply.body.errors).toEqual([{ status: false, code: 401, message: 'Failed to generate OAuth token' }]);
  });

  it('rejects a token once its ttl has passed', async () => {
    // Prepare
    let now = Date.parse('2025-01-01T00:00:00Z');
    const standIn = await startStandIn({ tokenTtlSeconds: 300, clock: () => now });
    const token = await call(
      standIn,
      'POST',
      '/v3/oauth/token/generate',
      { key: 'local-client-key', secret: 'local-client-secret' },
      {},
    );
    const oauth = { 'X-CAP-API-OAUTH-TOKEN': token.body.data?.accessToken ?? '' };

    // Act
    const beforeExpiry = await call(standIn, 'GET', lookupPath(lineUserId()), undefined, oauth);
    now += 300_000;
    const afterExpiry = await call(standIn, 'GET', lookupPath(lineUserId()), undefined, oauth);

    // Assess
    expect(codesOf(beforeExpiry.body.errors)).toEqual([8015]); // authenticated, within the limit: the lookup ran
    expect(afterExpiry.status).toBe(401);
  });

  it('reads the OAuth token from a configured header name', async () => {
    // Prepare
    const standIn = await startStandIn({ oauthHeaderName: 'CAP-API-ACCESS-TOKEN' });
    const token = await call(
      standIn,
      'POST',
      '/v3/oauth/token/generate',
      { key: 'local-client-key', secret: 'local-client-secret' },
      {},
    );
    const accessToken = token.body.data?.accessToken ?? '';

    // Act
    const withConfiguredName = await call(standIn, 'GET', lookupPath(lineUserId()), undefined, {
      'CAP-API-ACCESS-TOKEN': accessToken,
    });
    const withDefaultName = await call(standIn, 'GET', lookupPath(lineUserId()), undefined, {
      'X-CAP-API-OAUTH-TOKEN': accessToken,
    });

    // Assess
    expect(codesOf(withConfiguredName.body.errors)).toEqual([8015]); // authenticated, within the limit: the lookup ran
    expect(withDefaultName.status).toBe(401);
  });

  it('accepts till Basic auth only with the md5 hex of the password', async () => {
    // Prepare
    const standIn = await startStandIn();

    // Act
    const good = await call(standIn, 'GET', lookupPath(lineUserId()), undefined, basicAuth());
    const wrongPassword = await call(standIn, 'GET', lookupPath(lineUserId()), undefined, basicAuth('other'));
    const plainPassword = await call(standIn, 'GET', lookupPath(lineUserId()), undefined, {
      authorization: `Basic ${Buffer.from('local.till:local-password').toString('base64')}`,
    });

    // Assess
    expect(codesOf(good.body.errors)).toEqual([8015]); // authenticated, within the limit: the lookup ran
    expect(wrongPassword.status).toBe(401);
    expect(plainPassword.status).toBe(401);
  });

  it('answers 401 with errors[] and a fresh X-Cap-Requestid when no credentials are sent', async () => {
    // Prepare
    const standIn = await startStandIn();

    // Act
    const first = await call(standIn, 'POST', '/v2/customers', customerBody(lineProfile(lineUserId())), {});
    const second = await call(standIn, 'POST', '/v2/customers', customerBody(lineProfile(lineUserId())), {});

    // Assess
    expect(first.status).toBe(401);
    expect(codesOf(first.body.errors)).toEqual([401]);
    expect(first.requestId).toEqual(expect.any(String));
    expect(second.requestId).not.toBe(first.requestId);
    expect(standIn.state().customers).toEqual([]);
  });
});

describe('Capillary stand-in: add customer', () => {
  it('creates a LINE customer from the documented body', async () => {
    // Prepare
    const standIn = await startStandIn();
    const userId = lineUserId();

    // Act
    const reply = await call(standIn, 'POST', '/v2/customers', customerBody(lineProfile(userId)));

    // Assess
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ createdId: 500_000_001, warnings: [], sideEffects: [] });
    expect(standIn.customersWithIdentifier('line', userId)).toEqual([
      expect.objectContaining({
        id: 500_000_001,
        profiles: [expect.objectContaining({ source: 'LINE', accountId: LINE_ACCOUNT, firstName: 'Somchai' })],
      }),
    ]);
  });

  it('answers 8006 for the same LINE user in the same account, with the configured HTTP status', async () => {
    // Prepare
    const standIn = await startStandIn({ duplicateHttpStatus: 409 });
    const { userId } = await registerLineUser(standIn);

    // Act
    const reply = await call(standIn, 'POST', '/v2/customers', customerBody(lineProfile(userId)));

    // Assess
    expect(reply.status).toBe(409);
    expect(reply.body.errors).toEqual([
      { status: false, code: 8006, message: 'Customer already exists for same source' },
    ]);
    expect(standIn.customersWithIdentifier('line', userId)).toHaveLength(1);
  });

  it('merges a LINE profile into the INSTORE customer sharing its mobile, with warning 8050', async () => {
    // Prepare
    const standIn = await startStandIn({ mergeHttpStatus: 500 });
    const instore = await call(standIn, 'POST', '/v2/customers', customerBody(instoreProfile('66812345678')));
    const userId = lineUserId();
    const identifiers = [
      { type: 'line', value: userId },
      { type: 'mobile', value: '66812345678' },
    ];

    // Act
    const reply = await call(standIn, 'POST', '/v2/customers', customerBody(lineProfile(userId, { identifiers })));

    // Assess
    expect(reply.status).toBe(500);
    expect(reply.body.createdId).toBe(instore.body.createdId);
    expect(reply.body.warnings).toEqual([
      { status: false, code: 8050, message: 'Same Customer found in other sources,Combining' },
    ]);
    expect(standIn.state().customers).toHaveLength(1);
    expect(standIn.customersWithIdentifier('line', userId)[0]?.profiles.map((profile) => profile.source)).toEqual([
      'INSTORE',
      'LINE',
    ]);
  });

  it('treats another LINE account as another source: the same user id merges instead of failing', async () => {
    // Prepare
    const standIn = await startStandIn();
    const { userId, customerId } = await registerLineUser(standIn);

    // Act
    const reply = await call(
      standIn,
      'POST',
      '/v2/customers',
      customerBody(lineProfile(userId, { accountId: OTHER_LINE_ACCOUNT })),
    );

    // Assess
    expect(reply.body.createdId).toBe(customerId);
    expect(codesOf(reply.body.warnings)).toEqual([8050]);
    expect(standIn.customersWithIdentifier('line', userId)).toHaveLength(1);
  });

  it('registers INSTORE and LINE profiles sent together as one new customer without a merge warning', async () => {
    // Prepare
    const standIn = await startStandIn();
    const userId = lineUserId();

    // Act
    const reply = await call(
      standIn,
      'POST',
      '/v2/customers',
      customerBody(instoreProfile('66800000001'), lineProfile(userId)),
    );

    // Assess
    expect(reply.status).toBe(200);
    expect(reply.body.warnings).toEqual([]);
    expect(standIn.state().customers).toEqual([
      expect.objectContaining({ id: reply.body.createdId, profiles: [expect.anything(), expect.anything()] }),
    ]);
  });

  it.each([
    ['an unknown source', { source: 'TIKTOK' }, 3217],
    ['a LINE profile without accountId', { accountId: undefined }, 8045],
    ['an undocumented identifier type', { identifiers: [{ type: 'lineId', value: 'U0' }] }, 8013],
    ['no identifiers', { identifiers: [] }, 8013],
  ])('rejects %s', async (_case, overrides, code) => {
    // Prepare
    const standIn = await startStandIn();

    // Act
    const reply = await call(standIn, 'POST', '/v2/customers', customerBody(lineProfile(lineUserId(), overrides)));

    // Assess
    expect(reply.status).toBe(400);
    expect(codesOf(reply.body.errors)).toEqual([code]);
    expect(standIn.state().customers).toEqual([]);
  });

  it('applies subscriptionInfo sent with the registration', async () => {
    // Prepare
    const standIn = await startStandIn();
    const body = {
      ...customerBody(lineProfile(lineUserId())),
      subscriptionInfo: { subscriptions: [lineSubscription('OPTIN', 'BULK'), lineSubscription('OPTIN', 'TRANS')] },
    };

    // Act
    const reply = await call(standIn, 'POST', '/v2/customers', body);

    // Assess
    expect(reply.body.warnings).toEqual([]);
    expect(subscriptionOf(standIn.state(), reply.body.createdId as number, 'LINE', LINE_ACCOUNT)).toEqual({
      BULK: 'OPTIN',
      TRANS: 'OPTIN',
    });
  });

  it('reports a subscription it cannot set on registration as warning 91022 and still creates the customer', async () => {
    // Prepare
    const standIn = await startStandIn({ acceptedSubscriptionChannels: ['line'] });
    const body = {
      ...customerBody(lineProfile(lineUserId())),
      subscriptionInfo: { subscriptions: [lineSubscription('OPTIN', 'BULK')] },
    };

    // Act
    const reply = await call(standIn, 'POST', '/v2/customers', body);

    // Assess
    expect(reply.status).toBe(200);
    expect(codesOf(reply.body.warnings)).toEqual([91022]);
    expect(subscriptionOf(standIn.state(), reply.body.createdId as number, 'LINE', LINE_ACCOUNT)).toEqual({});
  });

  it('answers 91022 for every subscription of an org that takes subscriptionInfo with a warning', async () => {
    // Prepare
    const standIn = await startStandIn({ subscriptionInfoOnAdd: 'warning' });
    const body = {
      ...customerBody(lineProfile(lineUserId())),
      subscriptionInfo: { subscriptions: [lineSubscription('OPTIN', 'BULK'), lineSubscription('OPTIN', 'TRANS')] },
    };

    // Act
    const reply = await call(standIn, 'POST', '/v2/customers', body);

    // Assess
    expect(reply.status).toBe(200);
    expect(codesOf(reply.body.warnings)).toEqual([91022, 91022]);
    expect(subscriptionOf(standIn.state(), reply.body.createdId as number, 'LINE', LINE_ACCOUNT)).toEqual({});
  });

  it('creates the customer without the opt-in and without a word for an org that ignores subscriptionInfo', async () => {
    // Prepare
    const standIn = await startStandIn({ subscriptionInfoOnAdd: 'ignored' });
    const body = {
      ...customerBody(lineProfile(lineUserId())),
      subscriptionInfo: { subscriptions: [lineSubscription('OPTIN', 'BULK'), lineSubscription('OPTIN', 'TRANS')] },
    };

    // Act
    const reply = await call(standIn, 'POST', '/v2/customers', body);

    // Assess
    expect(reply.status).toBe(200);
    expect(reply.body.warnings).toEqual([]);
    expect(subscriptionOf(standIn.state(), reply.body.createdId as number, 'LINE', LINE_ACCOUNT)).toEqual({});
  });

  it('refuses the whole add, storing nothing, for an org that refuses subscriptionInfo', async () => {
    // Prepare
    const standIn = await startStandIn({ subscriptionInfoOnAdd: 'refused' });
    const body = {
      ...customerBody(lineProfile(lineUserId())),
      subscriptionInfo: { subscriptions: [lineSubscription('OPTIN', 'BULK')] },
    };

    // Act
    const reply = await call(standIn, 'POST', '/v2/customers', body);
    const plain = await call(standIn, 'POST', '/v2/customers', customerBody(lineProfile(lineUserId())));

    // Assess
    expect(reply.status).toBe(400);
    expect(codesOf(reply.body.errors)).toEqual([400]);
    expect(typeof plain.body.createdId).toBe('number');
    expect(standIn.state().customers).toHaveLength(1);
  });

  it('refuses profiles of several sources in one add where the org does not take them, and still takes one source', async () => {
    // Prepare
    const standIn = await startStandIn({ profilesOfSeveralSourcesOnAdd: 'refused' });

    // Act
    const together = await call(
      standIn,
      'POST',
      '/v2/customers',
      customerBody(instoreProfile('66800000002'), lineProfile(lineUserId())),
    );
    const alone = await call(standIn, 'POST', '/v2/customers', customerBody(instoreProfile('66800000002')));

    // Assess
    expect(together.status).toBe(400);
    expect(codesOf(together.body.errors)).toEqual([400]);
    expect(typeof alone.body.createdId).toBe('number');
    expect(standIn.state().customers).toHaveLength(1);
  });

  it('refuses a folded form once per planned one-off refusal, then takes it again', async () => {
    // Prepare
    const standIn = await startStandIn();
    standIn.refuseFoldedForm({ form: 'severalSources', answer: 'refused', times: 1 });
    standIn.refuseFoldedForm({ form: 'subscriptionInfo', answer: 'warning', times: 1 });
    const withOptIn = (userId: string) => ({
      ...customerBody(lineProfile(userId)),
      subscriptionInfo: { subscriptions: [lineSubscription('OPTIN', 'BULK')] },
    });

    // Act
    const replies = [
      await call(
        standIn,
        'POST',
        '/v2/customers',
        customerBody(instoreProfile('66800000003'), lineProfile(lineUserId())),
      ),
      await call(
        standIn,
        'POST',
        '/v2/customers',
        customerBody(instoreProfile('66800000003'), lineProfile(lineUserId())),
      ),
      await call(standIn, 'POST', '/v2/customers', withOptIn(lineUserId())),
      await call(standIn, 'POST', '/v2/customers', withOptIn(lineUserId())),
    ];

    // Assess
    expect(
      replies.map((reply) => [reply.status, ...codesOf(reply.body.errors), ...codesOf(reply.body.warnings)]),
    ).toEqual([[400, 400], [200], [200, 91022], [200]]);
  });
});

describe('Capillary stand-in: lookup', () => {
  it('finds a LINE customer by source, account and line identifier', async () => {
    // Prepare
    const standIn = await startStandIn();
    const { userId, customerId } = await registerLineUser(standIn);

    // Act
    const reply = await call(standIn, 'GET', lookupPath(userId));

    // Assess
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ entity: customerId, warnings: [] });
  });

  it('answers 8015 with the configured HTTP status when nobody holds the identifier', async () => {
    // Prepare
    const standIn = await startStandIn({ notFoundHttpStatus: 404 });
    const { userId } = await registerLineUser(standIn);

    // Act
    const inOtherAccount = await call(standIn, 'GET', lookupPath(userId, `&accountId=${OTHER_LINE_ACCOUNT}`));

    // Assess
    expect(inOtherAccount.status).toBe(404);
    expect(inOtherAccount.body.errors).toEqual([
      { status: false, code: 8015, message: 'Customer not found for the given identifiers' },
    ]);
  });

  it('answers 8015 for a LINE lookup without accountId, as documented', async () => {
    // Prepare
    const standIn = await startStandIn();
    const { userId } = await registerLineUser(standIn);

    // Act
    const reply = await call(standIn, 'GET', lookupPath(userId, ''));

    // Assess
    expect(codesOf(reply.body.errors)).toEqual([8015]);
  });

  it('answers 8013 for identifierName=line where the org does not support it', async () => {
    // Prepare
    const standIn = await startStandIn({ supportsLineLookup: false });
    const { userId } = await registerLineUser(standIn);

    // Act
    const reply = await call(standIn, 'GET', lookupPath(userId));

    // Assess
    expect(reply.status).toBe(400);
    expect(codesOf(reply.body.errors)).toEqual([8013]);
  });

  it('finds a merged customer by mobile in the INSTORE source', async () => {
    // Prepare
    const standIn = await startStandIn();
    const userId = lineUserId();
    const identifiers = [
      { type: 'line', value: userId },
      { type: 'mobile', value: '66899999999' },
    ];
    const registered = await call(
      standIn,
      'POST',
      '/v2/customers',
      customerBody(instoreProfile('66899999999'), lineProfile(userId, { identifiers })),
    );

    // Act
    const reply = await call(
      standIn,
      'GET',
      '/v2/customers/lookup?source=INSTORE&identifierName=mobile&identifierValue=66899999999',
    );

    // Assess
    expect(reply.body.entity).toBe(registered.body.createdId);
  });
});

describe('Capillary stand-in: subscriptions', () => {
  it('opts a customer in to LINE BULK and TRANS and echoes the request', async () => {
    // Prepare
    const standIn = await startStandIn();
    const { customerId } = await registerLineUser(standIn);

    // Act
    const reply = await call(
      standIn,
      'POST',
      `/v2/customers/${customerId}/subscriptions?format=json`,
      subscriptionBody('OPTIN'),
    );

    // Assess
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ ...subscriptionBody('OPTIN'), warnings: [] });
    expect(subscriptionOf(standIn.state(), customerId, 'LINE', LINE_ACCOUNT)).toEqual({
      BULK: 'OPTIN',
      TRANS: 'OPTIN',
    });
  });

  it('keeps the latest state per priority and every change in the history', async () => {
    // Prepare
    const standIn = await startStandIn();
    const { customerId } = await registerLineUser(standIn);
    await call(standIn, 'POST', `/v2/customers/${customerId}/subscriptions`, subscriptionBody('OPTIN'));

    // Act
    await call(
      standIn,
      'POST',
      `/v2/customers/${customerId}/subscriptions`,
      subscriptionBody('OPTOUT', { reason: 'LINE unfollow event' }),
    );

    // Assess
    const [customer] = standIn.state().customers;
    expect(subscriptionOf(standIn.state(), customerId, 'line', LINE_ACCOUNT)).toEqual({
      BULK: 'OPTOUT',
      TRANS: 'OPTOUT',
    });
    expect(customer?.subscriptionHistory.map((change) => `${change.priority}:${change.type}:${change.reason}`)).toEqual(
      [
        'BULK:OPTIN:LINE follow event',
        'TRANS:OPTIN:LINE follow event',
        'BULK:OPTOUT:LINE unfollow event',
        'TRANS:OPTOUT:LINE unfollow event',
      ],
    );
  });

  it('stores either accepted channel spelling under the upper-cased channel', async () => {
    // Prepare
    const standIn = await startStandIn({ acceptedSubscriptionChannels: ['line'] });
    const { customerId } = await registerLineUser(standIn);
    const lowerCase = [lineSubscription('OPTIN', 'BULK', { channel: 'line' })];

    // Act
    const upper = await call(standIn, 'POST', `/v2/customers/${customerId}/subscriptions`, subscriptionBody('OPTIN'));
    const lower = await call(
      standIn,
      'POST',
      `/v2/customers/${customerId}/subscriptions`,
      subscriptionBody('OPTIN', { subscriptions: lowerCase }),
    );

    // Assess
    expect(codesOf(upper.body.errors)).toEqual([1101]);
    expect(lower.status).toBe(200);
    expect(subscriptionOf(standIn.state(), customerId, 'LINE', LINE_ACCOUNT)).toEqual({ BULK: 'OPTIN' });
  });

  it.each([
    ['an unknown channel', { subscriptions: [lineSubscription('OPTIN', 'BULK', { channel: 'Line' })] }, 1101],
    ['an unknown priority', { subscriptions: [lineSubscription('OPTIN', 'PROMO')] }, 1102],
    ['a scope other than USER', { scope: { scope: 'ORG', subScope: 'NONE' } }, 1103],
    ['several scopes', { scope: [{ scope: 'USER' }, { scope: 'USER' }] }, 1105],
    ['an unknown status', { subscriptions: [lineSubscription('SUBSCRIBED', 'BULK')] }, 1106],
  ])('rejects %s with HTTP 400', async (_case, overrides, code) => {
    // Prepare
    const standIn = await startStandIn();
    const { customerId } = await registerLineUser(standIn);

    // Act
    const reply = await call(
      standIn,
      'POST',
      `/v2/customers/${customerId}/subscriptions`,
      subscriptionBody('OPTIN', overrides),
    );

    // Assess
    expect(reply.status).toBe(400);
    expect(reply.body.warnings).toEqual([]);
    expect(codesOf(reply.body.errors)).toEqual([code]);
    expect(subscriptionOf(standIn.state(), customerId, 'LINE', LINE_ACCOUNT)).toEqual({});
  });

  it('stores nothing when one item of the request is invalid', async () => {
    // Prepare
    const standIn = await startStandIn();
    const { customerId } = await registerLineUser(standIn);
    const mixed = [lineSubscription('OPTIN', 'BULK'), lineSubscription('OPTIN', 'URGENT')];

    // Act
    await call(
      standIn,
      'POST',
      `/v2/customers/${customerId}/subscriptions`,
      subscriptionBody('OPTIN', { subscriptions: mixed }),
    );

    // Assess
    expect(subscriptionOf(standIn.state(), customerId, 'LINE', LINE_ACCOUNT)).toEqual({});
  });

  it('answers 1012 for an unknown customer', async () => {
    // Prepare
    const standIn = await startStandIn();

    // Act
    const reply = await call(standIn, 'POST', '/v2/customers/123/subscriptions', subscriptionBody('OPTIN'));

    // Assess
    expect(reply.status).toBe(400);
    expect(codesOf(reply.body.errors)).toEqual([1012]);
  });

  it('reads back the subscriptions and the customer over GET', async () => {
    // Prepare
    const standIn = await startStandIn();
    const { userId, customerId } = await registerLineUser(standIn);
    await call(standIn, 'POST', `/v2/customers/${customerId}/subscriptions`, subscriptionBody('OPTIN'));

    // Act
    const subscriptions = await call(standIn, 'GET', `/v2/customers/${customerId}/subscriptions`);
    const customer = await call(standIn, 'GET', `/v2/customers/${customerId}`);

    // Assess
    const expected = [lineSubscription('OPTIN', 'BULK'), lineSubscription('OPTIN', 'TRANS')];
    expect(subscriptions.body).toEqual({ subscriptions: expected, warnings: [] });
    expect(customer.body).toEqual(
      expect.objectContaining({
        id: customerId,
        subscriptionInfo: { subscriptions: expected },
        profiles: [expect.objectContaining({ identifiers: [{ type: 'line', value: userId }] })],
      }),
    );
  });

  it('names an unknown customer in subscriptionOf instead of reporting no subscriptions', async () => {
    // Prepare
    const standIn = await startStandIn();

    // Act
    const read = () => subscriptionOf(standIn.state(), 42, 'LINE', LINE_ACCOUNT);

    // Assess
    expect(read).toThrow(UnknownCustomerError);
  });
});

describe('Capillary stand-in: rate limit', () => {
  it('answers 429 past the per-minute limit and lets calls through again once the window slides', async () => {
    // Prepare
    let now = Date.parse('2025-01-01T00:00:00Z');
    const standIn = await startStandIn({ rateLimitPerMinute: 2, clock: () => now });
    await call(standIn, 'GET', lookupPath(lineUserId()));
    now += 30_000;
    await call(standIn, 'GET', lookupPath(lineUserId()));

    // Act
    const overLimit = await call(standIn, 'GET', lookupPath(lineUserId()));
    now += 30_001;
    const afterFirstLeftWindow = await call(standIn, 'GET', lookupPath(lineUserId()));

    // Assess
    expect(overLimit.status).toBe(429);
    expect(codesOf(overLimit.body.errors)).toEqual([429]);
    expect(codesOf(afterFirstLeftWindow.body.errors)).toEqual([8015]); // authenticated, within the limit: the lookup ran
    expect(standIn.overLimitCount()).toBe(1);
  });

  it('does not count token generation or unauthenticated calls', async () => {
    // Prepare
    const standIn = await startStandIn({ rateLimitPerMinute: 1 });
    await call(
      standIn,
      'POST',
      '/v3/oauth/token/generate',
      { key: 'local-client-key', secret: 'local-client-secret' },
      {},
    );
    await call(standIn, 'GET', lookupPath(lineUserId()), undefined, {});

    // Act
    const reply = await call(standIn, 'GET', lookupPath(lineUserId()));

    // Assess
    expect(codesOf(reply.body.errors)).toEqual([8015]); // authenticated, within the limit: the lookup ran
  });

  it('takes a new limit, and "no limit", from POST /__admin/config', async () => {
    // Prepare
    const standIn = await startStandIn();
    await fetch(`${standIn.url}/__admin/config`, { method: 'POST', body: JSON.stringify({ rateLimitPerMinute: 1 }) });
    await call(standIn, 'GET', lookupPath(lineUserId()));
    const limited = await call(standIn, 'GET', lookupPath(lineUserId()));

    // Act
    await fetch(`${standIn.url}/__admin/config`, {
      method: 'POST',
      body: JSON.stringify({ rateLimitPerMinute: null }),
    });
    const unlimited = await call(standIn, 'GET', lookupPath(lineUserId()));

    // Assess
    expect(limited.status).toBe(429);
    expect(codesOf(unlimited.body.errors)).toEqual([8015]); // authenticated, within the limit: the lookup ran
  });
});

describe('Capillary stand-in: faults', () => {
  it('answers an injected status instead of the operation, for the matching method and path only', async () => {
    // Prepare
    const standIn = await startStandIn();
    standIn.injectFault({ status: 521, times: 1, method: 'POST', pathPrefix: '/v2/customers' });
    const userId = lineUserId();

    // Act
    const lookup = await call(standIn, 'GET', lookupPath(userId));
    const faulted = await call(standIn, 'POST', '/v2/customers', customerBody(lineProfile(userId)));
    const retried = await call(standIn, 'POST', '/v2/customers', customerBody(lineProfile(userId)));

    // Assess
    expect(codesOf(lookup.body.errors)).toEqual([8015]);
    expect(faulted.status).toBe(521);
    expect(codesOf(faulted.body.errors)).toEqual([521]);
    expect(faulted.requestId).toEqual(expect.any(String));
    expect(retried.status).toBe(200);
    expect(standIn.customersWithIdentifier('line', userId)).toHaveLength(1);
  });
  it('runs the operation behind a lost response, so the retry meets 8006', async () => {
    // Prepare
    const standIn = await startStandIn();
    standIn.injectFault({ kind: 'lost-response', times: 1 });
    const userId = lineUserId();

    // Act
    const lost = await call(standIn, 'POST', '/v2/customers', customerBody(lineProfile(userId)));
    const retried = await call(standIn, 'POST', '/v2/customers', customerBody(lineProfile(userId)));

    // Assess
    expect(lost.status).toBe(504);
    expect(codesOf(retried.body.errors)).toEqual([8006]);
    expect(standIn.customersWithIdentifier('line', userId)).toHaveLength(1);
  });
});

describe('Capillary stand-in: requests and admin routes', () => {
  it('logs calls with status and codes, masking LINE user ids', async () => {
    // Prepare
    const standIn = await startStandIn();
    const { userId } = await registerLineUser(standIn);
    await call(standIn, 'POST', '/v2/customers', customerBody(lineProfile(userId)));

    // Act
    const calls = (await (await fetch(`${standIn.url}/__admin/calls`)).json()) as unknown[];

    // Assess
    expect(calls).toEqual([
      expect.objectContaining({ seq: 1, method: 'POST', path: '/v2/customers', status: 200, errorCodes: [] }),
      expect.objectContaining({ seq: 2, method: 'POST', path: '/v2/customers', status: 400, errorCodes: [8006] }),
    ]);
    expect(JSON.stringify(calls)).not.toContain(userId);
    expect(JSON.stringify(calls)).toContain(maskUserId(userId));
  });

  it('serves the state over GET /__admin/state', async () => {
    // Prepare
    const standIn = await startStandIn();
    const { userId, customerId } = await registerLineUser(standIn);

    // Act
    const state = await (await fetch(`${standIn.url}/__admin/state`)).json();

    // Assess
    expect(state).toEqual({
      customers: [
        expect.objectContaining({
          id: customerId,
          profiles: [expect.objectContaining({ identifiers: [{ type: 'line', value: userId }] })],
        }),
      ],
      mergeRequests: [],
      behaviouralEvents: { posted: [], duplicates: {}, overLimit: 0 },
      loyalty: {},
    });
  });

  it('forgets customers, faults, calls and settings on POST /__admin/reset, but never reuses a forgotten customer id', async () => {
    // Prepare
    const standIn = await startStandIn();
    const forgotten = await registerLineUser(standIn);
    standIn.injectFault({ status: 500, times: 5 });
    standIn.configure({ rateLimitPerMinute: 0 });

    // Act
    const reset = await fetch(`${standIn.url}/__admin/reset`, { method: 'POST' });
    const afterReset = await call(standIn, 'POST', '/v2/customers', customerBody(lineProfile(lineUserId())));

    // Assess
    expect(reset.status).toBe(200);
    expect(afterReset.body.createdId).toBe(forgotten.customerId + 1);
    expect(standIn.state().customers).toHaveLength(1);
    expect(standIn.calls()).toHaveLength(1);
  });
});

describe('Capillary stand-in: linking (change identifier, merge requests, members)', () => {
  const changeIdentifierPath = (customerId: number) =>
    `/v2/customers/${customerId}/changeIdentifier?source=LINE&accountId=${LINE_ACCOUNT}`;

  it('adds a LINE identifier to a member (a new LINE profile), refuses one another customer holds (8007), and removes it', async () => {
    // Prepare
    const standIn = await startStandIn();
    const memberId = standIn.addMember({ mobile: '66812345678' });
    const { userId, customerId: anonymousId } = await registerLineUser(standIn);
    // Act + Assess: held by the anonymous customer
    const refused = await call(standIn, 'POST', changeIdentifierPath(memberId), {
      add: [{ type: 'line', value: userId }],
    });
    expect({ status: refused.status, codes: codesOf(refused.body.errors) }).toEqual({ status: 400, codes: [8007] });
    // removed from the anonymous customer, then added to the member
    expect(
      (await call(standIn, 'POST', changeIdentifierPath(anonymousId), { remove: [{ type: 'line', value: userId }] }))
        .body,
    ).toMatchObject({ createdId: anonymousId });
    expect(
      (await call(standIn, 'POST', changeIdentifierPath(memberId), { add: [{ type: 'line', value: userId }] })).body,
    ).toMatchObject({ createdId: memberId });
    expect(standIn.customersWithIdentifier('line', userId).map((c) => c.id)).toEqual([memberId]);
    expect(standIn.state().customers.find((c) => c.id === anonymousId)?.profiles).toEqual([]);
  });

  it('answers 8009 for an unknown customer and 8045 without accountId', async () => {
    const standIn = await startStandIn();
    expect(
      codesOf(
        (await call(standIn, 'POST', changeIdentifierPath(1), { add: [{ type: 'line', value: lineUserId() }] })).body
          .errors,
      ),
    ).toEqual([8009]);
    const memberId = standIn.addMember({ mobile: '66812345678' });
    expect(
      codesOf(
        (
          await call(standIn, 'POST', `/v2/customers/${memberId}/changeIdentifier?source=LINE`, {
            add: [{ type: 'line', value: 'U1' }],
          })
        ).body.errors,
      ),
    ).toEqual([8045]);
  });

  it("removes an INSTORE identifier a merge carried onto a member, keeping the member's own (source=INSTORE, no accountId)", async () => {
    // Prepare: a registration (INSTORE externalId) that Member Care merged into the member
    const standIn = await startStandIn();
    const memberId = standIn.addMember({ mobile: '66812345678' });
    const externalId = { type: 'externalId', value: `line_${lineUserId()}` };
    const instore = { firstName: 'Somchai', source: 'INSTORE', identifiers: [externalId] };
    const registered = await call(standIn, 'POST', '/v2/customers', customerBody(instore));
    standIn.mergeCustomers(memberId, registered.body.createdId as number);
    const lookup = `/v2/customers/lookup?source=INSTORE&identifierName=externalId&identifierValue=${externalId.value}`;
    expect((await call(standIn, 'GET', lookup)).body.entity).toBe(memberId);
    // Act
    const removed = await call(standIn, 'POST', `/v2/customers/${memberId}/changeIdentifier?source=INSTORE`, {
      remove: [externalId],
    });
    // Assess: off the member, whose mobile stays; the externalId registers a customer of its own again
    expect(removed).toMatchObject({ status: 200, body: { createdId: memberId } });
    expect(codesOf((await call(standIn, 'GET', lookup)).body.errors)).toEqual([8015]);
    expect(standIn.state().customers.find((c) => c.id === memberId)?.profiles).toEqual([
      expect.objectContaining({ source: 'INSTORE', identifiers: [{ type: 'mobile', value: '66812345678' }] }),
    ]);
    const again = await call(standIn, 'POST', '/v2/customers', customerBody(instore));
    expect(again.body.createdId).not.toBe(memberId);
    expect(codesOf(again.body.warnings)).toEqual([]);
  });

  it("merges a LINE profile carrying a member's mobile into the member (8050)", async () => {
    const standIn = await startStandIn();
    const memberId = standIn.addMember({ mobile: '66812345678' });
    const userId = lineUserId();
    const added = await call(
      standIn,
      'POST',
      '/v2/customers',
      customerBody(
        lineProfile(userId, {
          identifiers: [
            { type: 'line', value: userId },
            { type: 'mobile', value: '66812345678' },
          ],
        }),
      ),
    );
    expect({ createdId: added.body.createdId, warnings: codesOf(added.body.warnings) }).toEqual({
      createdId: memberId,
      warnings: [8050],
    });
    expect(
      standIn
        .state()
        .customers.find((c) => c.id === memberId)
        ?.profiles.map((p) => p.source),
    ).toEqual(['INSTORE', 'LINE']);
  });

  it('keeps a merge request PENDING until approved, then moves the victim into the survivor; auto-approves on client_auto_approve', async () => {
    // Prepare
    const standIn = await startStandIn();
    const memberId = standIn.addMember({ mobile: '66812345678' });
    const { userId, customerId: anonymousId } = await registerLineUser(standIn);
    const body = { type: 'CHANGE_IDENTIFIER', baseType: 'MERGE', userId: anonymousId, survivorUserId: memberId };
    // Act
    const filed = await call(standIn, 'POST', '/v2/requests', body);
    // Assess
    expect(filed.status).toBe(201);
    const requestId = filed.body.createdId as number;
    expect((await call(standIn, 'GET', `/v2/requests/${requestId}`)).body).toMatchObject({
      status: 'PENDING',
      userId: anonymousId,
    });
    expect(standIn.approveMergeRequest(requestId)).toMatchObject({ status: 'APPROVED' });
    expect(standIn.customersWithIdentifier('line', userId).map((c) => c.id)).toEqual([memberId]);
    expect(standIn.state().customers.map((c) => c.id)).toEqual([memberId]);
    // and with auto-approve
    const second = await registerLineUser(standIn);
    const auto = await call(standIn, 'POST', '/v2/requests?client_auto_approve=true', {
      ...body,
      userId: second.customerId,
    });
    expect((await call(standIn, 'GET', `/v2/requests/${auto.body.createdId as number}`)).body).toMatchObject({
      status: 'APPROVED',
    });
  });

  it('adds members over POST /__admin/members and refuses a second member with the same mobile', async () => {
    const standIn = await startStandIn();
    const first = await fetch(`${standIn.url}/__admin/members`, {
      method: 'POST',
      body: JSON.stringify({ mobile: '66812345678' }),
    });
    expect(await first.json()).toEqual({ customerId: expect.any(Number) });
    const second = await fetch(`${standIn.url}/__admin/members`, {
      method: 'POST',
      body: JSON.stringify({ mobile: '66812345678' }),
    });
    expect(second.status).toBe(400);
  });
});

describe('Capillary stand-in: behavioural-events integration URL', () => {
  const EVENTS_AUTH = `Basic ${Buffer.from(LOCAL_BEHAVIOURAL_EVENTS_CREDENTIALS).toString('base64')}`;
  const checkin = (overrides: Record<string, unknown> = {}) => ({
    event_name: 'line_checkin',
    external_event_id: '01JH9P0STBACK0CHECKIN00001',
    eventDateTime: '2026-01-01 12:34:56',
    customer_id: '500000001',
    postback_data: 'action=checkin&store=shibuya',
    ...overrides,
  });

  async function postEvent(url: string, body: unknown, authorization = EVENTS_AUTH) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const messageOf = (body: Record<string, unknown>) => (body.errors as EnvelopeItem[])[0]?.message;

  it('serves POST /webhooks/<integration>: takes the event with Capillary\'s "pushed" answer and records it', async () => {
    // Prepare
    const standIn = await startStandIn();
    const customerId = standIn.addMember({ mobile: '66812345678' });

    // Act
    const posted = await postEvent(standIn.behaviouralEventsUrl, checkin({ customer_id: String(customerId) }));

    // Assess
    expect(standIn.behaviouralEventsUrl).toBe(`${standIn.url}/webhooks/${LOCAL_BEHAVIOURAL_EVENTS_INTEGRATION}`);
    expect(posted).toEqual({
      status: 200,
      body: {
        status: { code: 1100, message: 'Event is pushed to transformation state' },
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
    });
    const state = (await (await fetch(`${standIn.url}/__admin/state`)).json()) as CapillaryState;
    expect(state.behaviouralEvents).toEqual({
      posted: [
        {
          seq: 1,
          receivedAt: expect.any(String),
          eventName: 'line_checkin',
          externalEventId: '01JH9P0STBACK0CHECKIN00001',
          customerId: String(customerId),
          knownCustomer: true,
          body: checkin({ customer_id: String(customerId) }),
        },
      ],
      duplicates: {},
      overLimit: 0,
    });
  });

  it('takes an event for a customer it does not have (Capillary resolves it later), marking it unknown', async () => {
    const standIn = await startStandIn();
    expect((await postEvent(standIn.behaviouralEventsUrl, checkin({ customer_id: '999' }))).status).toBe(200);
    expect(standIn.state().behaviouralEvents.posted[0]).toMatchObject({ customerId: '999', knownCustomer: false });
  });

  it('counts duplicates per external_event_id, as Capillary takes a duplicate too', async () => {
    // Prepare
    const standIn = await startStandIn();
    const other = checkin({ external_event_id: '01JH9P0STBACK0CHECKIN00002' });

    // Act
    for (const body of [checkin(), other, checkin(), checkin()])
      expect((await postEvent(standIn.behaviouralEventsUrl, body)).status).toBe(200);

    // Assess
    const { posted, duplicates } = standIn.state().behaviouralEvents;
    expect(posted.map((event) => event.seq)).toEqual([1, 2, 3, 4]);
    expect(duplicates).toEqual({ '01JH9P0STBACK0CHECKIN00001': 3 });
  });

  it.each([
    ['no credentials', ''],
    ['a wrong password', `Basic ${Buffer.from('local.events:wrong').toString('base64')}`],
    ['the REST API till credentials', basicAuth().authorization as string],
  ])('answers 401 for %s and records nothing', async (_name, authorization) => {
    const standIn = await startStandIn();
    const refused = await postEvent(standIn.behaviouralEventsUrl, checkin(), authorization);
    expect(refused.status).toBe(401);
    expect(messageOf(refused.body)).toBe('Authentication failed');
    expect(standIn.state().behaviouralEvents.posted).toEqual([]);
  });

  it('answers 404 for another integration, and takes the configured integration and credentials', async () => {
    const standIn = await startStandIn({ behaviouralEvents: { integrationId: 'abc123', credentials: 'u:p' } });
    expect((await postEvent(`${standIn.url}/webhooks/local-engagement`, checkin())).status).toBe(404);
    const auth = `Basic ${Buffer.from('u:p').toString('base64')}`;
    expect((await postEvent(`${standIn.url}/webhooks/abc123`, checkin(), auth)).status).toBe(200);
  });

  it.each([
    ['a body that is no object', ['line_checkin'], 'The body must be a JSON object of the event fields'],
    ['no event_name', checkin({ event_name: undefined }), 'event_name is required (a non-empty string)'],
    [
      'an empty external_event_id',
      checkin({ external_event_id: '' }),
      'external_event_id is required (a non-empty string)',
    ],
    ['a numeric customer_id', checkin({ customer_id: 500000001 }), 'customer_id is required (a non-empty string)'],
    [
      'an ISO eventDateTime',
      checkin({ eventDateTime: '2026-01-01T12:34:56Z' }),
      'eventDateTime must be yyyy-MM-dd HH:mm:ss',
    ],
    [
      'an impossible date',
      checkin({ eventDateTime: '2026-02-30 12:00:00' }),
      'eventDateTime must be yyyy-MM-dd HH:mm:ss',
    ],
    ['hour 24', checkin({ eventDateTime: '2026-01-01 24:00:00' }), 'eventDateTime must be yyyy-MM-dd HH:mm:ss'],
    ['no eventDateTime', checkin({ eventDateTime: undefined }), 'eventDateTime must be yyyy-MM-dd HH:mm:ss'],
    ['a nested attribute', checkin({ postback: { data: 'x' } }), 'postback must be a string, number or boolean'],
  ])('answers 400 for %s and records nothing', async (_name, body, message) => {
    const standIn = await startStandIn();
    const refused = await postEvent(standIn.behaviouralEventsUrl, body);
    expect(refused.status).toBe(400);
    expect(messageOf(refused.body)).toBe(message);
    expect(standIn.state().behaviouralEvents.posted).toEqual([]);
  });

  it('checks the configured customer field', async () => {
    const standIn = await startStandIn({ behaviouralEvents: { customerField: 'member' } });
    const refused = await postEvent(standIn.behaviouralEventsUrl, checkin());
    expect(messageOf(refused.body)).toBe('member is required (a non-empty string)');
    expect((await postEvent(standIn.behaviouralEventsUrl, checkin({ member: '7' }))).status).toBe(200);
    expect(standIn.state().behaviouralEvents.posted[0]?.customerId).toBe('7');
  });

  it('refuses the next well-formed events with 400 when told to over the admin route, then takes them again', async () => {
    // Prepare
    const standIn = await startStandIn();
    const admin = await fetch(`${standIn.url}/__admin/behavioural-events/refusals`, {
      method: 'POST',
      body: JSON.stringify({ times: 2, message: 'Attribute postback_data is not defined for the event' }),
    });
    const badAdmin = await fetch(`${standIn.url}/__admin/behavioural-events/refusals`, {
      method: 'POST',
      body: JSON.stringify({ times: 0 }),
    });

    // Act
    const answers = [];
    for (let post = 0; post < 3; post++) answers.push(await postEvent(standIn.behaviouralEventsUrl, checkin()));

    // Assess
    expect(admin.status).toBe(200);
    expect(badAdmin.status).toBe(400);
    expect(answers.map(({ status }) => status)).toEqual([400, 400, 200]);
    expect(messageOf(answers[0]!.body)).toBe('Attribute postback_data is not defined for the event');
    expect(standIn.state().behaviouralEvents.posted).toHaveLength(1);
  });

  it('answers injected 429 and 500 instead of taking the event', async () => {
    const standIn = await startStandIn();
    standIn.injectFault({ status: 429, times: 1, pathPrefix: '/webhooks/' });
    standIn.injectFault({ status: 500, times: 1, pathPrefix: '/webhooks/' });
    const statuses = [];
    for (let post = 0; post < 3; post++)
      statuses.push((await postEvent(standIn.behaviouralEventsUrl, checkin())).status);
    expect(statuses).toEqual([429, 500, 200]);
    expect(standIn.state().behaviouralEvents.posted).toHaveLength(1);
  });

  it('takes the event behind a lost response, so a retry shows as a duplicate', async () => {
    const standIn = await startStandIn();
    standIn.injectFault({ kind: 'lost-response', times: 1, pathPrefix: '/webhooks/' });
    expect((await postEvent(standIn.behaviouralEventsUrl, checkin())).status).toBe(504);
    expect((await postEvent(standIn.behaviouralEventsUrl, checkin())).status).toBe(200);
    expect(standIn.state().behaviouralEvents.duplicates).toEqual({ '01JH9P0STBACK0CHECKIN00001': 2 });
  });

  it('has a rate limit of its own: the REST API keeps its budget, and the limit is set over /__admin/config', async () => {
    // Prepare
    const standIn = await startStandIn({ rateLimitPerMinute: 1 });
    await fetch(`${standIn.url}/__admin/config`, {
      method: 'POST',
      body: JSON.stringify({ behaviouralEventsRateLimitPerMinute: 1 }),
    });

    // Act
    const first = await postEvent(standIn.behaviouralEventsUrl, checkin());
    const second = await postEvent(standIn.behaviouralEventsUrl, checkin());
    const restCall = await call(standIn, 'POST', '/v2/customers', customerBody(lineProfile(lineUserId())));

    // Assess
    expect([first.status, second.status]).toEqual([200, 429]);
    expect(restCall.status).toBe(200);
    expect(standIn.state().behaviouralEvents).toMatchObject({ overLimit: 1, posted: [expect.anything()] });
  });

  it('forgets posted events and pending refusals on reset', async () => {
    const standIn = await startStandIn();
    await postEvent(standIn.behaviouralEventsUrl, checkin());
    standIn.refuseBehaviouralEvents({ times: 1 });
    standIn.reset();
    expect((await postEvent(standIn.behaviouralEventsUrl, checkin())).status).toBe(200);
    expect(standIn.state().behaviouralEvents.posted.map((event) => event.seq)).toEqual([1]);
  });
});
