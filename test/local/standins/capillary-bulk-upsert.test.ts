import { lineUserId } from '../../../local/line-event-factory';
import {
  startCapillaryStandIn,
  subscriptionOf,
  type CapillaryStandIn,
} from '../../../local/standins/capillary-standin';
import { closedAfterEach } from '../../support/closed-after-each';

const ACCOUNT = '2001914141242';
const startStandIn = closedAfterEach(startCapillaryStandIn);

async function token(standIn: CapillaryStandIn): Promise<string> {
  const response = await fetch(`${standIn.url}/v3/oauth/token/generate`, {
    method: 'POST',
    body: JSON.stringify({ key: 'local-client-key', secret: 'local-client-secret' }),
  });
  return ((await response.json()) as { data: { accessToken: string } }).data.accessToken;
}

async function post(standIn: CapillaryStandIn, path: string, body: unknown) {
  const response = await fetch(`${standIn.url}${path}`, {
    method: 'POST',
    headers: { 'x-cap-api-oauth-token': await token(standIn) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const upsert = (standIn: CapillaryStandIn, records: unknown[]) =>
  post(standIn, '/v2/integrations/customer/upsert/bulk', records);
const lineRecord = (userId: string, extra: Record<string, unknown> = {}) => ({
  profiles: [{ identifiers: [{ type: 'line', value: userId }], source: 'LINE', accountId: ACCOUNT }],
  subscriptionInfo: {
    subscriptions: ['BULK', 'TRANS'].map((priority) => ({
      channel: 'LINE',
      accountId: ACCOUNT,
      priority,
      type: 'OPTIN',
      sourceName: 'LINE',
    })),
  },
  ...extra,
});

describe('Capillary stand-in: bulk upsert', () => {
  it('adds each record as a customer with its inline subscriptions and answers one result per record', async () => {
    const standIn = await startStandIn();
    const [a, b] = [lineUserId(), lineUserId()];
    // Act
    const { status, body } = await upsert(standIn, [lineRecord(a), lineRecord(b)]);
    // Assess
    expect(status).toBe(200);
    expect(body).toMatchObject({ totalCount: 2, failureCount: 0 });
    const [first, second] = body.response;
    expect(first).toMatchObject({ entityId: expect.any(Number), errors: [], warnings: [] });
    expect(first.result.id).toBe(first.entityId);
    expect(subscriptionOf(standIn.state(), second.entityId, 'LINE', ACCOUNT)).toEqual({
      BULK: 'OPTIN',
      TRANS: 'OPTIN',
    });
  });

  it('updates the customer that holds the identifier in the same source and account instead of adding another', async () => {
    const standIn = await startStandIn();
    const userId = lineUserId();
    const first = await upsert(standIn, [lineRecord(userId)]);
    // Act
    const again = await upsert(standIn, [
      lineRecord(userId, {
        profiles: [
          {
            firstName: 'Somchai',
            identifiers: [
              { type: 'line', value: userId },
              { type: 'externalId', value: `line_${userId}` },
            ],
            source: 'LINE',
            accountId: ACCOUNT,
          },
        ],
      }),
    ]);
    // Assess
    expect(again.body.response[0].entityId).toBe(first.body.response[0].entityId);
    const [customer, ...others] = standIn.customersWithIdentifier('line', userId);
    expect(others).toHaveLength(0);
    expect(customer!.profiles).toHaveLength(1);
    expect(customer!.profiles[0]).toMatchObject({
      firstName: 'Somchai',
      identifiers: [
        { type: 'line', value: userId },
        { type: 'externalId', value: `line_${userId}` },
      ],
    });
  });

  it('merges into a customer of another source that shares an identifier (8050)', async () => {
    const standIn = await startStandIn();
    const userId = lineUserId();
    const instore = await post(standIn, '/v2/customers', {
      profiles: [{ identifiers: [{ type: 'externalId', value: `line_${userId}` }], source: 'INSTORE', accountId: '' }],
    });
    // Act
    const { body } = await upsert(standIn, [
      lineRecord(userId, {
        profiles: [
          {
            identifiers: [
              { type: 'line', value: userId },
              { type: 'externalId', value: `line_${userId}` },
            ],
            source: 'LINE',
            accountId: ACCOUNT,
          },
        ],
      }),
    ]);
    // Assess
    expect(body.response[0]).toMatchObject({
      entityId: instore.body.createdId,
      errors: [],
      warnings: [{ code: 8050 }],
    });
  });

  it('reports a record that was applied and failed at once (3017 with a result), and a rejected one without', async () => {
    const standIn = await startStandIn();
    const [labelled, rejected, fine] = [lineUserId(), lineUserId(), lineUserId()];
    standIn.rejectInBulk({ userIds: [rejected], code: 8013, times: 1 });
    // Act
    const { status, body } = await upsert(standIn, [
      lineRecord(labelled, { statusLabel: 'NoSuchLabel' }),
      lineRecord(rejected),
      lineRecord(fine),
    ]);
    // Assess
    expect(status).toBe(201);
    expect(body).toMatchObject({ totalCount: 3, failureCount: 2 });
    expect(body.response[0]).toMatchObject({
      entityId: expect.any(Number),
      result: { id: expect.any(Number) },
      errors: [{ code: 3017 }],
    });
    expect(body.response[1]).toEqual({
      entityId: null,
      result: null,
      errors: [{ status: false, code: 8013, message: 'Rejected by the stand-in (injected)' }],
      warnings: [],
    });
    expect(body.response[2].errors).toEqual([]);
    expect(standIn.customersWithIdentifier('line', labelled)).toHaveLength(1);
    expect(standIn.customersWithIdentifier('line', rejected)).toHaveLength(0);
  });

  it('answers a per-record error for a bad record and a warning for a subscription it cannot set', async () => {
    const standIn = await startStandIn({ acceptedSubscriptionChannels: ['line'] });
    const userId = lineUserId();
    // Act
    const { status, body } = await upsert(standIn, [
      { profiles: [{ identifiers: [{ type: 'line', value: lineUserId() }], source: 'LINE' }] },
      lineRecord(userId),
    ]);
    // Assess: no accountId → 8045; the LINE channel spelled "LINE" is refused by this org → 91022 warnings, customer kept
    expect(status).toBe(201);
    expect(body.response[0]).toMatchObject({ entityId: null, errors: [{ code: 8045 }] });
    expect(body.response[1]).toMatchObject({
      entityId: expect.any(Number),
      errors: [],
      warnings: [{ code: 91022 }, { code: 91022 }],
    });
  });

  it('counts a bulk call once per record or once per request against the rate limit, as configured', async () => {
    const perRecord = await startStandIn({ rateLimitPerMinute: 5 });
    const perRequest = await startStandIn({ rateLimitPerMinute: 5, bulkCountsPerRecord: false });
    const records = Array.from({ length: 4 }, () => lineRecord(lineUserId()));
    // Act
    const recordCounted = [
      (await upsert(perRecord, records)).status,
      (await upsert(perRecord, records.slice(0, 2))).status,
    ];
    const requestCounted = [(await upsert(perRequest, records)).status, (await upsert(perRequest, records)).status];
    // Assess
    expect(recordCounted).toEqual([200, 429]);
    expect(perRecord.overLimitCount()).toBe(1);
    expect(requestCounted).toEqual([200, 200]);
  });

  it('refuses a body that is not a non-empty array', async () => {
    const standIn = await startStandIn();
    expect((await upsert(standIn, [])).status).toBe(400);
  });

  it('rejects the first record of each of the next bulk calls, whoever it is, then answers normally', async () => {
    const standIn = await startStandIn();
    standIn.rejectFirstBulkRecords({ bulkRecordRejections: 1, code: 8013 });
    const [first, second] = [lineUserId(), lineUserId()];
    // Act
    const rejected = await upsert(standIn, [lineRecord(first), lineRecord(second)]);
    const after = await upsert(standIn, [lineRecord(first)]);
    // Assess
    expect(rejected.status).toBe(201);
    expect(rejected.body.response[0]).toMatchObject({ entityId: null, errors: [{ code: 8013 }] });
    expect(rejected.body.response[1]).toMatchObject({ entityId: expect.any(Number), errors: [] });
    expect(after.body.response[0]).toMatchObject({ entityId: expect.any(Number), errors: [] });
    expect(standIn.customersWithIdentifier('line', first)).toHaveLength(1);
  });
});
