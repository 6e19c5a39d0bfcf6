import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { HTTPFetchError, messagingApi } from '@line/bot-sdk';

import { maskUserId } from '../../../lib/observability/telemetry';
import { DESTINATION, lineUserId } from '../../../local/line-event-factory';
import { signLineBody } from '../../../local/sign-line-body';
import { startLineStandIn, type LineStandIn } from '../../../local/standins/line-standin';
import { closedAfterEach } from '../../support/closed-after-each';

const TOKEN = 'local-channel-access-token';

const startStandIn = closedAfterEach(startLineStandIn);

function sdkClient(standIn: LineStandIn, channelAccessToken = TOKEN): messagingApi.MessagingApiClient {
  return new messagingApi.MessagingApiClient({ channelAccessToken, baseURL: standIn.url });
}

async function getProfile(standIn: LineStandIn, userId: string, authorization = `Bearer ${TOKEN}`) {
  const response = await fetch(`${standIn.url}/v2/bot/profile/${userId}`, { headers: { authorization } });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    requestId: response.headers.get('x-line-request-id'),
  };
}

async function postAdmin(standIn: LineStandIn, route: string, body?: unknown): Promise<Response> {
  return fetch(`${standIn.url}/__admin/${route}`, {
    method: 'POST',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function sdkFailure(request: Promise<unknown>): Promise<HTTPFetchError> {
  const error: unknown = await request.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  if (!(error instanceof HTTPFetchError)) throw new Error(`expected an HTTPFetchError, got ${String(error)}`);
  return error;
}

describe('LINE stand-in: get profile', () => {
  it('serves a configured profile to the @line/bot-sdk MessagingApiClient', async () => {
    // Prepare
    const userId = lineUserId();
    const profile = {
      displayName: 'Somchai',
      pictureUrl: 'https://profile.line-scdn.net/abc',
      statusMessage: 'hi',
      language: 'th',
    };
    const standIn = await startStandIn({ profiles: { [userId]: profile } });

    // Act
    const fetched = await sdkClient(standIn).getProfile(userId);

    // Assess
    expect(fetched).toEqual({ userId, ...profile });
  });

  it('generates a stable display name for an unknown but well-formed user id', async () => {
    // Prepare
    const standIn = await startStandIn();
    const userId = lineUserId();

    // Act
    const first = await getProfile(standIn, userId);
    const second = await getProfile(standIn, userId);

    // Assess
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ userId, displayName: expect.stringMatching(/^LINE user [0-9a-f]{4}$/) });
    expect(second.body).toEqual(first.body);
  });

  it('answers 404 {"message":"Not found"} for a malformed id, or any unknown id in not-found mode', async () => {
    // Prepare
    const generating = await startStandIn();
    const strict = await startStandIn({ unknownUsers: 'not-found' });

    // Act
    const malformed = await getProfile(generating, 'Uxyz');
    const unknown = await getProfile(strict, lineUserId());

    // Assess
    expect(malformed).toEqual({ status: 404, body: { message: 'Not found' }, requestId: expect.any(String) });
    expect(unknown.status).toBe(404);
  });

  it('surfaces a blocked user as an HTTPFetchError 404 carrying x-line-request-id', async () => {
    // Prepare
    const userId = lineUserId();
    const standIn = await startStandIn({ profiles: { [userId]: { displayName: 'Somchai' } } });
    standIn.setBlocked(userId, true);

    // Act
    const error = await sdkFailure(sdkClient(standIn).getProfile(userId));

    // Assess
    expect(error.status).toBe(404);
    expect(JSON.parse(error.body)).toEqual({ message: 'Not found' });
    expect(error.headers.get('x-line-request-id')).toEqual(expect.any(String));
  });

  it('answers 401 without the channel access token as a bearer token', async () => {
    // Prepare
    const standIn = await startStandIn({ channelAccessToken: 'the-right-token' });
    const userId = lineUserId();

    // Act
    const wrongToken = await sdkFailure(sdkClient(standIn, 'another-token').getProfile(userId));
    const notBearer = await getProfile(standIn, userId, 'the-right-token');

    // Assess
    expect(wrongToken.status).toBe(401);
    expect(JSON.parse(wrongToken.body)).toEqual({ message: expect.stringMatching(/^Authentication failed/) });
    expect(notBearer.status).toBe(401);
  });
});

describe('LINE stand-in: admin routes', () => {
  it('adds, blocks and unblocks profiles through POST /__admin/profiles', async () => {
    // Prepare
    const standIn = await startStandIn({ unknownUsers: 'not-found' });
    const userId = lineUserId();

    // Act
    await postAdmin(standIn, 'profiles', { userId, displayName: 'Nok', language: 'th' });
    const added = await getProfile(standIn, userId);
    await postAdmin(standIn, 'profiles', { userId, blocked: true });
    const blocked = await getProfile(standIn, userId);
    await postAdmin(standIn, 'profiles', { userId, blocked: false });
    const unblocked = await getProfile(standIn, userId);

    // Assess
    expect(added.body).toEqual({ userId, displayName: 'Nok', language: 'th' });
    expect(blocked.status).toBe(404);
    expect(unblocked.status).toBe(200);
  });

  it('refuses a profile without a display name', async () => {
    // Prepare
    const standIn = await startStandIn();
    const userId = lineUserId();

    // Act
    const reply = await postAdmin(standIn, 'profiles', { userId, pictureUrl: 'https://example.com/p.png' });

    // Assess
    expect(reply.status).toBe(400);
    expect(standIn.state().profiles).toEqual({});
  });

  it('reports profiles and blocked users on GET /__admin/state', async () => {
    // Prepare
    const [kept, blocked] = [lineUserId(), lineUserId()];
    const standIn = await startStandIn({ profiles: { [kept]: { displayName: 'Kept' } } });
    standIn.setBlocked(blocked, true);

    // Act
    const state = await (await fetch(`${standIn.url}/__admin/state`)).json();

    // Assess
    expect(state).toEqual({
      profiles: { [kept]: { displayName: 'Kept' } },
      blockedUserIds: [blocked],
      unknownUsers: 'generate',
      followerIds: [],
      followersEverAdded: 0,
      followerIdsByBot: {},
      linkTokens: [],
      sent: [],
      richMenus: [],
      userRichMenus: {},
      loadingAnimations: [],
    });
  });

  it('logs calls with the user id masked', async () => {
    // Prepare
    const standIn = await startStandIn();
    const userId = lineUserId();
    await getProfile(standIn, userId);

    // Act
    const calls = await (await fetch(`${standIn.url}/__admin/calls`)).json();

    // Assess
    expect(calls).toEqual([
      expect.objectContaining({ seq: 1, method: 'GET', path: `/v2/bot/profile/${maskUserId(userId)}`, status: 200 }),
    ]);
    expect(JSON.stringify(calls)).not.toContain(userId);
  });

  it('answers an injected 429 with the documented LINE message, then recovers', async () => {
    // Prepare
    const standIn = await startStandIn();
    await postAdmin(standIn, 'faults', { status: 429, times: 1, pathPrefix: '/v2/bot/profile/' });
    const userId = lineUserId();

    // Act
    const throttled = await getProfile(standIn, userId);
    const recovered = await getProfile(standIn, userId);

    // Assess
    expect(throttled.status).toBe(429);
    expect(throttled.body).toEqual({ message: 'The API rate limit has been exceeded. Try again later.' });
    expect(recovered.status).toBe(200);
  });

  it('restores the starting profiles, faults and latency on POST /__admin/reset', async () => {
    // Prepare
    const userId = lineUserId();
    const standIn = await startStandIn({ profiles: { [userId]: { displayName: 'Original' } } });
    standIn.setProfile(userId, { displayName: 'Changed' });
    standIn.injectFault({ status: 500, times: 1 });
    await postAdmin(standIn, 'config', { latencyMs: 5_000 });

    // Act
    await postAdmin(standIn, 'reset');
    const startedAt = performance.now();
    const reply = await getProfile(standIn, userId);

    // Assess
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    expect(reply.body).toEqual({ userId, displayName: 'Original' });
    expect(standIn.calls()).toHaveLength(1);
  });
});

describe('LINE stand-in: linking', () => {
  const post = (standIn: LineStandIn, path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${standIn.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('issues link tokens to the SDK client and refuses a blocked user', async () => {
    const standIn = await startStandIn();
    const [friend, blocker] = [lineUserId(), lineUserId()];
    standIn.setBlocked(blocker, true);
    const { linkToken } = await sdkClient(standIn).issueLinkToken(friend);
    expect(standIn.state().linkTokens).toEqual([expect.objectContaining({ linkToken, userId: friend, used: false })]);
    expect((await sdkFailure(sdkClient(standIn).issueLinkToken(blocker))).status).toBe(400);
  });

  it('records replies (a reply token works once) and pushes (a retry key works once: 409 after)', async () => {
    const standIn = await startStandIn();
    const messages = [{ type: 'text', text: 'hi' }];
    expect((await post(standIn, '/v2/bot/message/reply', { replyToken: 'r1', messages })).status).toBe(200);
    expect((await post(standIn, '/v2/bot/message/reply', { replyToken: 'r1', messages })).status).toBe(400);
    const to = lineUserId();
    expect((await post(standIn, '/v2/bot/message/push', { to, messages }, { 'x-line-retry-key': 'k1' })).status).toBe(
      200,
    );
    expect((await post(standIn, '/v2/bot/message/push', { to, messages }, { 'x-line-retry-key': 'k1' })).status).toBe(
      409,
    );
    expect(standIn.state().sent).toEqual([
      { via: 'reply', replyToken: 'r1', messages },
      { via: 'push', to, messages },
    ]);
  });

  it('verifies ID tokens as LINE Login does: payload for a valid one, 400 with the reason otherwise', async () => {
    const standIn = await startStandIn();
    const userId = lineUserId();
    const verify = async (idToken: string, clientId: string) => {
      const response = await fetch(`${standIn.url}/oauth2/v2.1/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ id_token: idToken, client_id: clientId }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    expect(await verify(standIn.issueIdToken(userId, '123'), '123')).toMatchObject({
      status: 200,
      body: { iss: 'https://access.line.me', sub: userId, aud: '123' },
    });
    expect(await verify(standIn.issueIdToken(userId, '123'), '999')).toMatchObject({
      status: 400,
      body: { error_description: 'Invalid IdToken Audience.' },
    });
    expect(await verify(standIn.issueIdToken(userId, '123', { expired: true }), '123')).toMatchObject({
      status: 400,
      body: { error_description: 'IdToken expired.' },
    });
    expect(await verify('nope', '123')).toMatchObject({ status: 400, body: { error_description: 'Invalid IdToken.' } });
  });

  it('sends a signed accountLink event to the connected webhook once per link token; failed ones carry no source and no reply token', async () => {
    // Prepare: a webhook that records what it receives
    const received: { body: string; signature: string | undefined }[] = [];
    const webhook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ body, signature: request.headers['x-line-signature'] as string | undefined });
        response.end('{}');
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', () => resolve()));
    const standIn = await startStandIn();
    standIn.connectWebhook({
      url: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/line/webhook`,
      channelSecret: 'secret',
      destination: DESTINATION,
    });
    const userId = lineUserId();
    try {
      const { linkToken } = await sdkClient(standIn).issueLinkToken(userId);
      const { linkToken: second } = await sdkClient(standIn).issueLinkToken(userId);
      // Act
      const dialog = await fetch(`${standIn.url}/dialog/bot/accountLink?linkToken=${linkToken}&nonce=nonce-0123456789`);
      const reused = await fetch(`${standIn.url}/dialog/bot/accountLink?linkToken=${linkToken}&nonce=nonce-0123456789`);
      await fetch(`${standIn.url}/dialog/bot/accountLink?linkToken=${second}&nonce=nonce-9876543210&result=failed`);
      // Assess
      expect(await dialog.json()).toMatchObject({ delivered: true, status: 200 });
      expect(await reused.json()).toEqual({ delivered: false, reason: 'link token unknown, used or expired' });
      const events = received.map(({ body, signature }) => {
        expect(signature).toBe(signLineBody(body, 'secret'));
        return (JSON.parse(body) as { destination: string; events: Record<string, unknown>[] }).events[0];
      });
      expect(events[0]).toMatchObject({
        type: 'accountLink',
        source: { type: 'user', userId },
        link: { result: 'ok', nonce: 'nonce-0123456789' },
        replyToken: expect.any(String),
      });
      expect(events[1]).toMatchObject({ type: 'accountLink', link: { result: 'failed', nonce: 'nonce-9876543210' } });
      expect(events[1]).not.toHaveProperty('source');
      expect(events[1]).not.toHaveProperty('replyToken');
    } finally {
      await new Promise((resolve) => webhook.close(resolve));
    }
  });
});
