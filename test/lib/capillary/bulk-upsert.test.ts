import { LineBulkRegistrar } from '../../../lib/capillary/bulk-upsert';
import { CapillaryUnavailableError } from '../../../lib/capillary/errors';
import { CapillaryHttpClient } from '../../../lib/capillary/http-client';
import { TAKEN_BY_CALLER, type RateLimiter } from '../../../lib/capillary/rate-limiter';
import type { CapillaryConfig } from '../../../lib/config/capillary-registration';
import type { BulkCountsAs } from '../../../lib/domain/backfill-rules';
import { lineUserId } from '../../../local/line-event-factory';
import { LINE_ACCOUNT_ID, RIG_CAPILLARY_AUTH, workerConfigFor } from '../../../local/rigs/worker-rig';
import {
  startCapillaryStandIn,
  subscriptionOf,
  type CapillaryStandIn,
  type CapillaryStandInOptions,
} from '../../../local/standins/capillary-standin';

const call = { deadlineAt: Number.POSITIVE_INFINITY };
const { capillary } = workerConfigFor('unused', 'http://unused', 'http://unused');

function registrar(
  baseUrl: string,
  { config = capillary, limiter = TAKEN_BY_CALLER, countsAs = 'record' as BulkCountsAs } = {},
) {
  const http = new CapillaryHttpClient({
    baseUrl,
    auth: RIG_CAPILLARY_AUTH,
    timeoutMs: 5000,
    maxAttempts: 1,
    limiter: TAKEN_BY_CALLER,
  });
  return new LineBulkRegistrar(http, config, LINE_ACCOUNT_ID, limiter, countsAs);
}

describe('LineBulkRegistrar.recordFor', () => {
  const subscriptions = [
    { channel: 'LINE', priority: 'BULK', type: 'OPTIN', accountId: LINE_ACCOUNT_ID, sourceName: 'LINE', orgUnitId: -1 },
    {
      channel: 'LINE',
      priority: 'TRANS',
      type: 'OPTIN',
      accountId: LINE_ACCOUNT_ID,
      sourceName: 'LINE',
      orgUnitId: -1,
    },
  ];

  it('makes the INSTORE profile and the LINE profile sharing the externalId in instore+line mode, opted in inline', () => {
    const userId = lineUserId();
    expect(registrar('http://unused').recordFor(userId, 'Somchai')).toEqual({
      loyaltyInfo: { loyaltyType: 'non_loyalty' },
      profiles: [
        {
          firstName: 'Somchai',
          lastName: '',
          identifiers: [{ type: 'externalId', value: `line_${userId}` }],
          fields: {},
          source: 'INSTORE',
          accountId: '',
        },
        {
          firstName: 'Somchai',
          lastName: '',
          identifiers: [
            { type: 'line', value: userId },
            { type: 'externalId', value: `line_${userId}` },
          ],
          commChannels: [{ type: 'line', value: userId, primary: true, verified: true, meta: { residence: true } }],
          fields: {},
          source: 'LINE',
          accountId: LINE_ACCOUNT_ID,
        },
      ],
      extendedFields: {},
      subscriptionInfo: { subscriptions },
    });
  });

  it('carries the LINE id alone in line-only mode', () => {
    const userId = lineUserId();
    const config: CapillaryConfig = { ...capillary, registrationMode: 'line-only' };
    const profiles = registrar('http://unused', { config }).recordFor(userId).profiles as { identifiers: unknown }[];
    expect(profiles.map((profile) => profile.identifiers)).toEqual([[{ type: 'line', value: userId }]]);
  });
});

describe('LineBulkRegistrar.reserve', () => {
  const recordingLimiter = (answer: boolean) => {
    const takes: [number, number][] = [];
    const limiter: RateLimiter = {
      take: async (tokens, deadlineAt) => {
        takes.push([tokens, deadlineAt]);
        return answer;
      },
    };
    return { takes, limiter };
  };

  it('takes one token per record or one per request, as CAPILLARY_BULK_COUNTS_AS says, up to the deadline', async () => {
    const perRecord = recordingLimiter(true);
    const perRequest = recordingLimiter(true);

    await registrar('http://unused', { limiter: perRecord.limiter, countsAs: 'record' }).reserve(7, { deadlineAt: 42 });
    await registrar('http://unused', { limiter: perRequest.limiter, countsAs: 'request' }).reserve(7, {
      deadlineAt: 42,
    });

    expect(perRecord.takes).toEqual([[7, 42]]);
    expect(perRequest.takes).toEqual([[1, 42]]);
  });

  it('throws CapillaryUnavailableError (0 attempts) when there is no budget before the deadline', async () => {
    const { limiter } = recordingLimiter(false);
    await expect(registrar('http://unused', { limiter }).reserve(3, call)).rejects.toThrow(
      new CapillaryUnavailableError('bulk-upsert', 0, 'no Capillary budget left before the deadline'),
    );
  });
});

describe('LineBulkRegistrar.upsert against the Capillary stand-in', () => {
  let standIn: CapillaryStandIn;
  const start = async (options: CapillaryStandInOptions = {}) => {
    standIn = await startCapillaryStandIn(options);
  };
  afterEach(() => standIn.close());

  it('registers every follower in one call, opted in, one outcome per follower in order', async () => {
    await start();
    const userIds = [lineUserId(), lineUserId(), lineUserId()];

    const outcomes = await registrar(standIn.url).upsert(userIds, call);

    expect(outcomes).toEqual(
      userIds.map((userId) => ({
        userId,
        customerId: expect.any(Number),
        ok: true,
        subscribed: true,
        merged: false,
        codes: [],
      })),
    );
    for (const { userId, customerId } of outcomes) {
      expect(standIn.customersWithIdentifier('line', userId).map((c) => c.id)).toEqual([customerId]);
      expect(subscriptionOf(standIn.state(), customerId!, 'LINE', LINE_ACCOUNT_ID)).toEqual({
        BULK: 'OPTIN',
        TRANS: 'OPTIN',
      });
    }
    expect(
      standIn
        .calls()
        .filter((c) => c.path.startsWith('/v2/'))
        .map((c) => c.path),
    ).toEqual(['/v2/integrations/customer/upsert/bulk?skipChangeIdentifier=false']);
  });

  it('reports a rejected record failed with its codes, the others registered', async () => {
    await start();
    const [rejected, accepted] = [lineUserId(), lineUserId()];
    standIn.rejectInBulk({ userIds: [rejected], code: 8013, times: 1 });

    const outcomes = await registrar(standIn.url).upsert([rejected, accepted], call);

    expect(outcomes).toEqual([
      {
        userId: rejected,
        ok: false,
        subscribed: false,
        merged: false,
        codes: [8013],
        reason: '8013 Rejected by the stand-in (injected)',
      },
      { userId: accepted, customerId: expect.any(Number), ok: true, subscribed: true, merged: false, codes: [] },
    ]);
  });

  it('reports a record registered without its opt-in (warning 91022) as not subscribed', async () => {
    await start({ subscriptionInfoOnAdd: 'warning' });
    const userId = lineUserId();

    expect(await registrar(standIn.url).upsert([userId], call)).toEqual([
      { userId, customerId: expect.any(Number), ok: true, subscribed: false, merged: false, codes: [] },
    ]);
  });

  it('has each attempt take its cost from the HTTP client’s limiter: N tokens per record, 1 per request', async () => {
    await start();
    const taken: number[] = [];
    const limiter: RateLimiter = { take: async (tokens) => Boolean(taken.push(tokens)) };
    const http = new CapillaryHttpClient({
      baseUrl: standIn.url,
      auth: RIG_CAPILLARY_AUTH,
      timeoutMs: 1000,
      maxAttempts: 1,
      limiter,
    });
    const followers = [lineUserId(), lineUserId(), lineUserId()];
    for (const countsAs of ['record', 'request'] as const)
      await new LineBulkRegistrar(http, capillary, LINE_ACCOUNT_ID, TAKEN_BY_CALLER, countsAs).upsert(followers, call);
    expect(taken).toEqual([3, 1]);
  });

  it('throws CapillaryUnavailableError when Capillary stays unavailable', async () => {
    await start();
    standIn.injectFault({ status: 503, times: 1, pathPrefix: '/v2/' });
    await expect(registrar(standIn.url).upsert([lineUserId()], call)).rejects.toBeInstanceOf(CapillaryUnavailableError);
  });
});

describe('LineBulkRegistrar.upsert on answers of an unexpected shape', () => {
  const userIds = [lineUserId(), lineUserId()];
  let fetchSpy: jest.SpiedFunction<typeof fetch>;
  /** Capillary's token first, then this answer to the bulk call. */
  const answering = (status: number, body: unknown) => {
    fetchSpy = jest
      .spyOn(globalThis, 'fetch')
      .mockResolvedValueOnce(Response.json({ data: { accessToken: 'token', ttlSeconds: 3600 } }))
      .mockResolvedValueOnce(Response.json(body, { status }));
    return registrar('https://capillary.invalid').upsert(userIds, call);
  };
  afterEach(() => fetchSpy.mockRestore());

  it('fails every record when the answer has no per-record results, with the codes it gave', async () => {
    const outcomes = await answering(400, { errors: [{ code: 400, message: 'bad request' }] });
    expect(outcomes).toEqual(
      userIds.map((userId) => ({
        userId,
        ok: false,
        subscribed: false,
        merged: false,
        codes: [400],
        reason: 'HTTP 400, no per-record results',
      })),
    );
  });

  it('reports a record merged into a customer of another source (warning 8050)', async () => {
    const outcomes = await answering(200, {
      response: [
        { entityId: 11, errors: [], warnings: [{ code: 8050, message: 'Same Customer found in other sources' }] },
        { entityId: 12, errors: [], warnings: [] },
      ],
    });
    expect(outcomes.map(({ customerId, merged }) => ({ customerId, merged }))).toEqual([
      { customerId: 11, merged: true },
      { customerId: 12, merged: false },
    ]);
  });

  it('fails every record when the results do not match the records one to one', async () => {
    const outcomes = await answering(200, { response: [{ entityId: 1, errors: [], warnings: [] }] });
    expect(outcomes.map((outcome) => [outcome.ok, outcome.reason])).toEqual([
      [false, 'answer has 1 results for 2 records'],
      [false, 'answer has 1 results for 2 records'],
    ]);
  });

  it('keeps the customer id of a record applied yet failed, and counts it failed', async () => {
    const [applied, notObject] = await answering(201, {
      response: [{ entityId: 500000001, errors: [{ code: 3017, message: 'Status label is invalid' }] }, 'nonsense'],
    });
    expect(applied).toEqual({
      userId: userIds[0],
      customerId: 500000001,
      ok: false,
      subscribed: false,
      merged: false,
      codes: [3017],
      reason: '3017 Status label is invalid',
    });
    expect(notObject).toEqual({
      userId: userIds[1],
      ok: false,
      subscribed: false,
      merged: false,
      codes: [0],
      reason: '0 the answer for this record is not an object',
    });
  });

  it('fails a record with no customer id, or one that is not a safe integer', async () => {
    const outcomes = await answering(200, { response: [{ errors: null }, { entityId: 2 ** 60 }] });
    expect(outcomes).toEqual(
      userIds.map((userId) => ({
        userId,
        ok: false,
        subscribed: false,
        merged: false,
        codes: [],
        reason: 'no customer id in the answer',
      })),
    );
  });
});
