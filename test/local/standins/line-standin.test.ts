import { HTTPFetchError, messagingApi } from '@line/bot-sdk';
import { maskUserId } from '../../../lib/observability/telemetry';
import { closedAfterEach } from '../../support/closed-after-each';
import { lineUserId } from '../../../local/line-event-factory';
import { startLineStandIn, type LineStandIn } from '../../../local/standins/line-standin';

const TOKEN = 'local-channel-access-token';

const startStandIn = closedAfterEach(startLineStandIn);

function sdkClient(standIn: LineStandIn, channelAccessToken = TOKEN): messagingApi.MessagingApiClient {
  return new messagingApi.MessagingApiClient({ channelAccessToken, baseURL: standIn.url });
}

async function getProfile(standIn: LineStandIn, userId: string, authorization = `Bearer ${TOKEN}`) {
  const response = await fetch(`${standIn.url}/v2/bot/profile/${userId}`, { headers: { authorization } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, requestId: response.headers.get('x-line-request-id') };
}

async function postAdmin(standIn: LineStandIn, route: string, body?: unknown): Promise<Response> {
  return fetch(`${standIn.url}/__admin/${route}`, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) });
}

async function sdkFailure(request: Promise<unknown>): Promise<HTTPFetchError> {
  const error: unknown = await request.then(() => undefined, (failure: unknown) => failure);
  if (!(error instanceof HTTPFetchError)) throw new Error(`expected an HTTPFetchError, got ${String(error)}`);
  return error;
}

describe('LINE stand-in: get profile', () => {
  it('serves a configured profile to the @line/bot-sdk MessagingApiClient', async () => {
    // Prepare
    const userId = lineUserId();
    const profile = { displayName: 'Somchai', pictureUrl: 'https://profile.line-scdn.net/abc', statusMessage: 'hi', language: 'th' };
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
    expect(state).toEqual({ profiles: { [kept]: { displayName: 'Kept' } }, blockedUserIds: [blocked], unknownUsers: 'generate', followerIds: [], followersEverAdded: 0 });
  });

  it('logs calls with the user id masked', async () => {
    // Prepare
    const standIn = await startStandIn();
    const userId = lineUserId();
    await getProfile(standIn, userId);

    // Act
    const calls = await (await fetch(`${standIn.url}/__admin/calls`)).json();

    // Assess
    expect(calls).toEqual([expect.objectContaining({ seq: 1, method: 'GET', path: `/v2/bot/profile/${maskUserId(userId)}`, status: 200 })]);
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
