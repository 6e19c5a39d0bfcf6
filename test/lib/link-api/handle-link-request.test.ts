import { BRIDGE_LINK_TYPE, BRIDGE_UNLINK_TYPE } from '../../../lib/domain/link-rules';
import { handleLinkRequest } from '../../../lib/link-api/handle-link-request';
import { parseQueuedEvent } from '../../../lib/queue/queued-event';
import { scanLogsDuring } from '../../../local/chaos/log-scan';
import { DESTINATION, lineUserId } from '../../../local/line-event-factory';
import { receiveAll } from '../../../local/rigs/aws-kit';
import {
  linkApiRequest,
  LOCAL_LINK_API_TOKEN,
  startLinkApiHarness,
  type LinkApiHarness,
} from '../../../local/rigs/link-api-rig';
import { LOCAL_LINE_LOGIN_CHANNEL_ID } from '../../../local/sample-events';

const MOBILE = '66812345678';

describe('link API', () => {
  let harness: LinkApiHarness;
  beforeEach(async () => {
    harness = await startLinkApiHarness();
  });
  afterEach(() => harness.close());

  const call = async (path: string, body: unknown, options?: Parameters<typeof linkApiRequest>[2]) => {
    const response = await handleLinkRequest(linkApiRequest(path, body, options), harness.deps);
    return {
      status: response.statusCode,
      body: JSON.parse(response.body ?? '{}') as Record<string, unknown>,
      headers: response.headers,
    };
  };
  const queued = async () =>
    (await receiveAll(harness.sqs, harness.queue.queueUrl)).map((message) => ({
      ...parseQueuedEvent(message.Body!),
      group: message.Attributes?.MessageGroupId,
    }));
  const issuedLinkToken = async (userId: string) => {
    const linkToken = `lt-${userId.slice(1, 9)}`;
    await harness.deps.nonces.saveLinkToken(linkToken, { userId, destination: DESTINATION }, Date.now() + 600_000);
    return linkToken;
  };

  describe('POST /line/link/nonce', () => {
    it(
      'answers a single-use nonce of ≥ 128 random bits (URL-safe Base64), the LINE redirect URL and the expiry; ' +
        "stored for the token's user",
      async () => {
        // Prepare
        const userId = lineUserId();
        const linkToken = await issuedLinkToken(userId);
        // Act
        const response = await call('/line/link/nonce', { linkToken, customer: { mobile: MOBILE } });
        // Assess
        expect(response.status).toBe(200);
        const nonce = response.body.nonce as string;
        expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(response.body.redirectUrl).toBe(
          `https://access.line.me/dialog/bot/accountLink?linkToken=${linkToken}&nonce=${nonce}`,
        );
        expect(Date.parse(response.body.expiresAt as string)).toBeGreaterThan(Date.now());
        const consumed = await harness.deps.nonces.consume(nonce, 'E1', Date.now());
        expect(consumed).toEqual({
          consumed: true,
          record: expect.objectContaining({
            userId,
            destination: DESTINATION,
            customer: { kind: 'mobile', value: MOBILE },
          }),
        });
        expect(await queued()).toEqual([]);
      },
    );

    it('makes a different nonce each time', async () => {
      const linkToken = await issuedLinkToken(lineUserId());
      const nonces = await Promise.all(
        [1, 2, 3].map(() => call('/line/link/nonce', { linkToken, customer: { email: 'a@example.com' } })),
      );
      expect(new Set(nonces.map((r) => r.body.nonce)).size).toBe(3);
    });

    it('refuses a link token the bridge did not issue (400 naming linkToken)', async () => {
      const response = await call('/line/link/nonce', { linkToken: 'made-up', customer: { mobile: MOBILE } });
      expect(response).toMatchObject({ status: 400, body: { field: 'linkToken' } });
    });
  });

  describe('POST /line/link/id-token', () => {
    it(
      'verifies the ID token with LINE (client_id = the LINE Login channel) and queues a link event ' +
        "in the user's FIFO group",
      async () => {
        // Prepare
        const userId = lineUserId();
        const idToken = harness.line.issueIdToken(userId, LOCAL_LINE_LOGIN_CHANNEL_ID);
        // Act
        const response = await call('/line/link/id-token', { idToken, customer: { externalId: 'POS-1' } });
        // Assess
        expect(response).toEqual({ status: 202, body: { queued: 'link' }, headers: expect.anything() });
        const [message, ...others] = await queued();
        expect(others).toEqual([]);
        expect(message).toMatchObject({
          destination: DESTINATION,
          group: `${DESTINATION}:${userId}`,
          event: { type: BRIDGE_LINK_TYPE, source: { userId } },
        });
        const nonce = (message!.event.link as { nonce: string }).nonce;
        expect(
          (await harness.deps.nonces.consume(nonce, message!.event.webhookEventId, Date.now())).record,
        ).toMatchObject({ userId, customer: { kind: 'externalId', value: 'POS-1' } });
        expect(harness.line.calls().map((c) => c.path)).toEqual(['/oauth2/v2.1/verify']);
      },
    );

    it.each([
      ['unknown', () => 'not-a-real-token', /Invalid IdToken/],
      [
        'expired',
        (userId: string, h: LinkApiHarness) =>
          h.line.issueIdToken(userId, LOCAL_LINE_LOGIN_CHANNEL_ID, { expired: true }),
        /expired/,
      ],
      [
        'for another LINE Login channel',
        (userId: string, h: LinkApiHarness) => h.line.issueIdToken(userId, '1999999999'),
        /Audience/,
      ],
    ])('answers 401 for an ID token that is %s, and queues nothing', async (_case, token, message) => {
      const response = await call('/line/link/id-token', {
        idToken: token(lineUserId(), harness),
        customer: { mobile: MOBILE },
      });
      expect(response.status).toBe(401);
      expect(response.body.message).toMatch(message);
      expect(await queued()).toEqual([]);
    });
  });

  describe('an ID token links once', () => {
    it('answers 409 to a replay of a verified token, with another customer, and queues nothing more', async () => {
      const userId = lineUserId();
      const idToken = harness.line.issueIdToken(userId, LOCAL_LINE_LOGIN_CHANNEL_ID);
      expect((await call('/line/link/id-token', { idToken, customer: { mobile: MOBILE } })).status).toBe(202);
      const replay = await call('/line/link/id-token', { idToken, customer: { email: 'other@example.com' } });
      expect(replay).toMatchObject({ status: 409, body: { field: 'idToken' } });
      expect((await queued()).map((m) => m.event.type)).toEqual([BRIDGE_LINK_TYPE]);
    });

    it('answers 401 to a token issued longer ago than LINK_ID_TOKEN_MAX_AGE_SECONDS, and queues nothing', async () => {
      const issuedAt = Date.now() - 11 * 60 * 1000;
      const idToken = harness.line.issueIdToken(lineUserId(), LOCAL_LINE_LOGIN_CHANNEL_ID, { issuedAt });
      const response = await call('/line/link/id-token', { idToken, customer: { mobile: MOBILE } });
      expect(response).toMatchObject({ status: 401, body: { field: 'idToken' } });
      expect(await queued()).toEqual([]);
    });
  });

  describe('POST /line/link/unlink', () => {
    it('queues an unlink for a user id', async () => {
      const userId = lineUserId();
      expect((await call('/line/link/unlink', { userId })).status).toBe(202);
      expect(await queued()).toEqual([
        expect.objectContaining({
          group: `${DESTINATION}:${userId}`,
          event: expect.objectContaining({ type: BRIDGE_UNLINK_TYPE }),
        }),
      ]);
    });

    it('finds the user of a linked customer and names the member; 404 not-linked for a customer nobody is linked to', async () => {
      const userId = lineUserId();
      await harness.deps.nonces.saveMemberLink(
        DESTINATION,
        [
          { kind: 'mobile', value: MOBILE },
          { kind: 'customerId', value: 42 },
        ],
        { userId, memberId: 42 },
      );
      expect((await call('/line/link/unlink', { customer: { mobile: MOBILE } })).status).toBe(202);
      expect(await call('/line/link/unlink', { customer: { email: 'nobody@example.com' } })).toMatchObject({
        status: 404,
        body: { field: 'customer' },
      });
      expect((await queued()).map((m) => [m.event.source?.userId, m.event.unlink])).toEqual([
        [userId, { memberId: 42 }],
      ]);
    });
  });

  it('logs no mobile number, email, LINE user id, link token or API token while it links and unlinks', async () => {
    // Prepare
    const userId = lineUserId();
    const linkToken = await issuedLinkToken(userId);
    const channel = {
      id: 'default',
      provider: 'p',
      destination: DESTINATION,
      capillaryLineAccountId: 'a',
      channelSecret: LOCAL_LINK_API_TOKEN,
      channelAccessToken: linkToken,
    };
    const secrets = { channels: [channel], capillaryClientKey: 'unused-key', capillaryClientSecret: 'unused-secret' };
    // Act
    const { result, logScan } = await scanLogsDuring(secrets, async () => [
      await call('/line/link/nonce', { linkToken, customer: { mobile: MOBILE } }),
      await call('/line/link/id-token', {
        idToken: harness.line.issueIdToken(userId, LOCAL_LINE_LOGIN_CHANNEL_ID),
        customer: { email: 'somchai@example.com' },
      }),
      await call('/line/link/unlink', { userId }),
      await call('/line/link/nonce', { linkToken: 'unknown', customer: { email: 'somchai@example.com' } }),
    ]);
    // Assess
    expect(result.map((r) => r.status)).toEqual([200, 202, 202, 400]);
    expect(logScan.lines).toBeGreaterThanOrEqual(4);
    expect(logScan.findings).toEqual({});
  });

  describe('refusals', () => {
    it.each([
      ['no Authorization header', null],
      ['a wrong token', 'x'.repeat(40)],
      ['another scheme', undefined],
    ])('answers 401 with %s', async (_case, token) => {
      const request = linkApiRequest('/line/link/unlink', { userId: lineUserId() }, { token });
      if (token === undefined) request.headers.authorization = `Basic ${LOCAL_LINK_API_TOKEN}`;
      const response = await handleLinkRequest(request, harness.deps);
      expect(response.statusCode).toBe(401);
      expect(response.headers).toMatchObject({ 'www-authenticate': 'Bearer' });
      expect(await queued()).toEqual([]);
    });

    it.each([
      ['not JSON', undefined, Buffer.from('{nope'), '$'],
      ['an array', ['x'], undefined, '$'],
      ['no linkToken', { customer: { mobile: MOBILE } }, undefined, 'linkToken'],
      ['no customer', { linkToken: 'lt' }, undefined, 'customer'],
      [
        'two customer references',
        { linkToken: 'lt', customer: { mobile: MOBILE, email: 'a@example.com' } },
        undefined,
        'customer',
      ],
      ['a malformed mobile', { linkToken: 'lt', customer: { mobile: '+66 81' } }, undefined, 'customer.mobile'],
      ['a malformed email', { linkToken: 'lt', customer: { email: 'nope' } }, undefined, 'customer.email'],
      [
        'a non-numeric customerId',
        { linkToken: 'lt', customer: { customerId: '42' } },
        undefined,
        'customer.customerId',
      ],
      [
        'a channel that is not a string',
        { channel: 7, linkToken: 'lt', customer: { mobile: MOBILE } },
        undefined,
        'channel',
      ],
    ])('answers 400 naming the field for %s', async (_case, body, raw, field) => {
      const response = await call('/line/link/nonce', body, { raw });
      expect(response).toMatchObject({ status: 400, body: { field } });
    });

    it('answers 404 for an unknown channel and for an unknown route, 413 for a body over the limit', async () => {
      expect(
        await call('/line/link/nonce', { channel: 'other', linkToken: 'lt', customer: { mobile: MOBILE } }),
      ).toMatchObject({ status: 404, body: { field: 'channel' } });
      expect((await call('/line/link/other', {})).status).toBe(404);
      expect((await call('/line/link/unlink', { userId: 'x'.repeat(20_000) })).status).toBe(413);
    });

    it('answers 400 for an unlink with a malformed user id, and with both userId and customer', async () => {
      expect(await call('/line/link/unlink', { userId: 'U123' })).toMatchObject({
        status: 400,
        body: { field: 'userId' },
      });
      expect(await call('/line/link/unlink', { userId: lineUserId(), customer: { mobile: MOBILE } })).toMatchObject({
        status: 400,
        body: { field: 'userId' },
      });
    });
  });
});
