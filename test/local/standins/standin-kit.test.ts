import { maskUserId } from '../../../lib/observability/telemetry';
import { lineUserId } from '../../../local/line-event-factory';
import { StandInSettings, startStandInServer, type BaseSettings } from '../../../local/standins/standin-kit';
import { closedAfterEach } from '../../support/closed-after-each';

/**
 * The kit under both stand-ins, tested once with a minimal API of its own: POST /notes stores a note,
 * GET /notes lists them. The stand-ins' own tests cover only what they add (routes, error bodies, state).
 */
function startNotesApi(initial: Partial<BaseSettings> = {}) {
  const notes: unknown[] = [];
  return startStandInServer({
    port: 0,
    requestIdHeader: 'x-request-id',
    settings: new StandInSettings({ latencyMs: 0, maxTransitMs: null, ...initial }),
    clock: Date.now,
    errorBody: (status, message) => ({ failure: { status, message } }),
    routes: [
      { method: 'POST', pattern: /^\/notes$/, handle: ({ body }) => ({ status: 200, body: { id: notes.push(body) } }) },
      { method: 'GET', pattern: /^\/notes$/, handle: () => ({ status: 200, body: notes }) },
    ],
    snapshot: () => ({ notes }),
    resetState: () => void notes.splice(0),
  });
}
const startServer = closedAfterEach(startNotesApi);

const post = (url: string, body: unknown) => fetch(`${url}/notes`, { method: 'POST', body: JSON.stringify(body) });
const notesOf = async (url: string) => (await (await fetch(`${url}/notes`)).json()) as unknown[];
const admin = (url: string, route: string, body: unknown) =>
  fetch(`${url}/__admin/${route}`, { method: 'POST', body: JSON.stringify(body) });

describe('stand-in kit: faults', () => {
  it("answers an injected status in the API's own error body, for the matching method and path only", async () => {
    // Prepare
    const server = await startServer();
    server.injectFault({ status: 521, times: 1, method: 'POST', pathPrefix: '/notes' });
    // Act
    const listed = await fetch(`${server.url}/notes`);
    const faulted = await post(server.url, { n: 1 });
    const retried = await post(server.url, { n: 1 });
    // Assess
    expect(listed.status).toBe(200);
    expect(faulted.status).toBe(521);
    expect(await faulted.json()).toEqual({ failure: { status: 521, message: expect.any(String) } });
    expect(faulted.headers.get('x-request-id')).toEqual(expect.any(String));
    expect(retried.status).toBe(200);
    expect(await notesOf(server.url)).toEqual([{ n: 1 }]);
  });

  it('lets the first `skip` matching requests through before a rule answers (the second page of a listing, say)', async () => {
    const server = await startServer();
    server.injectFault({ status: 503, times: 1, skip: 2, pathPrefix: '/notes' });
    // Act
    const statuses = [];
    for (let index = 0; index < 4; index++) statuses.push((await post(server.url, { n: index })).status);
    // Assess
    expect(statuses).toEqual([200, 200, 503, 200]);
    expect(await notesOf(server.url)).toEqual([{ n: 0 }, { n: 1 }, { n: 3 }]);
    expect((await admin(server.url, 'faults', { status: 503, times: 1, skip: -1 })).status).toBe(400);
  });

  it('holds a timeout fault for its delay, then answers 504 without running the operation', async () => {
    const server = await startServer();
    server.injectFault({ kind: 'timeout', times: 1, delayMs: 200 });
    const startedAt = performance.now();
    const reply = await post(server.url, { n: 1 });
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(190);
    expect(reply.status).toBe(504);
    expect(await notesOf(server.url)).toEqual([]);
  });

  it('lets a client give up on a held request and closes promptly anyway', async () => {
    const server = await startNotesApi();
    server.injectFault({ kind: 'timeout', times: 1, delayMs: 30_000 });
    await expect(
      fetch(`${server.url}/notes`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(100) }),
    ).rejects.toThrow();
    const closedAt = performance.now();
    await server.close();
    expect(performance.now() - closedAt).toBeLessThan(1_000);
  });

  it('runs the operation behind a lost response, answered 504 or as a reset connection', async () => {
    // Prepare
    const server = await startServer();
    server.injectFault({ kind: 'lost-response', times: 1 });
    server.injectFault({ kind: 'lost-response', times: 1, reply: 'connection-reset' });
    // Act
    const lost = await post(server.url, { n: 1 });
    const reset = post(server.url, { n: 2 });
    // Assess
    expect(lost.status).toBe(504);
    await expect(reset).rejects.toThrow();
    expect(await notesOf(server.url)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(
      server
        .calls()
        .slice(0, 2)
        .map(({ status, fault }) => ({ status, fault })),
    ).toEqual([
      { status: 504, fault: 'lost-response' },
      { status: null, fault: 'lost-response' },
    ]);
  });

  it('does not run a request that arrived later than the transit bound after its client sent it (x-sent-at)', async () => {
    // Prepare
    const server = await startServer({ maxTransitMs: 1000 });
    const sentAt = (ago: number) => ({ 'x-sent-at': String(Date.now() - ago) });
    // Act
    const late = await fetch(`${server.url}/notes`, { method: 'POST', body: '{"n":1}', headers: sentAt(5000) });
    const prompt = await fetch(`${server.url}/notes`, { method: 'POST', body: '{"n":2}', headers: sentAt(0) });
    const unstamped = await post(server.url, { n: 3 });
    // Assess: only the late one is refused, unrun, and logged as such with its transit
    expect([late.status, prompt.status, unstamped.status]).toEqual([504, 200, 200]);
    expect(await notesOf(server.url)).toEqual([{ n: 2 }, { n: 3 }]);
    const [lateCall, promptCall, unstampedCall] = server.calls();
    expect(lateCall).toMatchObject({ fault: 'late', transitMs: expect.any(Number) });
    expect(lateCall!.transitMs).toBeGreaterThanOrEqual(5000);
    expect([promptCall!.fault, promptCall!.transitMs! < 1000, unstampedCall!.transitMs]).toEqual([
      undefined,
      true,
      undefined,
    ]);
  });

  it('takes faults from POST /__admin/faults, first in first out, and refuses a malformed rule whole', async () => {
    // Prepare
    const server = await startServer();
    // Act
    const accepted = await admin(server.url, 'faults', [
      { status: 503, times: 2 },
      { status: 429, times: 1 },
    ]);
    const refused = await admin(server.url, 'faults', [
      { status: 502, times: 1 },
      { status: 418, times: 1 },
    ]);
    const statuses = [];
    for (let attempt = 0; attempt < 4; attempt += 1) statuses.push((await fetch(`${server.url}/notes`)).status);
    // Assess
    expect(accepted.status).toBe(200);
    expect(refused.status).toBe(400);
    expect(statuses).toEqual([503, 503, 429, 200]);
  });
});

describe('stand-in kit: requests, settings and admin routes', () => {
  it('refuses a body over the size cap with 413 and malformed JSON with 400, before any route', async () => {
    const server = await startServer();
    const tooLarge = await fetch(`${server.url}/notes`, {
      method: 'POST',
      body: JSON.stringify({ padding: 'x'.repeat(1_100_000) }),
    });
    const malformed = await fetch(`${server.url}/notes`, { method: 'POST', body: '{"n": [' });
    expect(tooLarge.status).toBe(413);
    expect(malformed.status).toBe(400);
    expect(await notesOf(server.url)).toEqual([]);
  });

  it('delays every API answer by the latency set through POST /__admin/config, and refuses an unknown setting', async () => {
    // Prepare
    const server = await startServer();
    // Act
    const configured = await admin(server.url, 'config', { latencyMs: 150 });
    const unknown = await admin(server.url, 'config', { rateLimitPerMinute: 10 });
    const startedAt = performance.now();
    await fetch(`${server.url}/notes`);
    // Assess
    expect(configured.status).toBe(200);
    expect(unknown.status).toBe(400);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(140);
  });

  it('logs calls with LINE user ids masked', async () => {
    const server = await startServer();
    const userId = lineUserId();
    await post(server.url, { userId });
    const [logged] = server.calls();
    expect(logged).toMatchObject({ method: 'POST', path: '/notes', status: 200 });
    expect(logged?.requestBody).toBe(JSON.stringify({ userId: maskUserId(userId) }));
  });

  it('lists pending faults and settings on GET, and clears the faults alone on DELETE /__admin/faults', async () => {
    // Prepare
    const server = await startServer();
    await post(server.url, { n: 1 });
    server.injectFault({ status: 503, times: 6, pathPrefix: '/notes' });
    server.configure({ latencyMs: 5 });
    const call = async (method: string, route: string) => {
      const response = await fetch(`${server.url}/__admin/${route}`, { method });
      return { status: response.status, body: (await response.json()) as unknown };
    };
    // Act
    const listed = await call('GET', 'faults');
    const config = await call('GET', 'config');
    const cleared = await call('DELETE', 'faults');
    // Assess: the faults are gone; the notes and the latency stay
    expect(listed).toEqual({ status: 200, body: { pending: [{ status: 503, times: 6, pathPrefix: '/notes' }] } });
    expect(config).toEqual({ status: 200, body: { latencyMs: 5, maxTransitMs: null } });
    expect(cleared).toEqual({ status: 200, body: { pending: [] } });
    expect((await call('GET', 'faults')).body).toEqual({ pending: [] });
    expect((await call('GET', 'config')).body).toEqual({ latencyMs: 5, maxTransitMs: null });
    expect(await notesOf(server.url)).toEqual([{ n: 1 }]);
  });

  it('answers 405 naming the method an admin route takes, and 404 listing the routes', async () => {
    const server = await startServer();

    const getReset = await fetch(`${server.url}/__admin/reset`);
    const unknown = await fetch(`${server.url}/__admin/nope`);

    expect(getReset.status).toBe(405);
    expect(await getReset.json()).toEqual({ error: '/__admin/reset answers POST, not GET' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      error:
        'no admin route GET /__admin/nope; there are: GET /__admin/state, GET /__admin/calls, GET /__admin/faults, POST /__admin/faults, ' +
        'DELETE /__admin/faults, GET /__admin/config, POST /__admin/config, POST /__admin/headers, POST /__admin/reset',
    });
  });

  it('forgets the API state, faults, calls and settings on POST /__admin/reset', async () => {
    // Prepare
    const server = await startServer();
    await post(server.url, { n: 1 });
    server.injectFault({ status: 503, times: 5 });
    server.configure({ latencyMs: 10_000 });
    // Act
    const reset = await admin(server.url, 'reset', {});
    // Assess: the next call is fast, not faulted, and sees no notes
    expect(reset.status).toBe(200);
    expect(await notesOf(server.url)).toEqual([]);
    expect(server.calls()).toHaveLength(1);
  });
});

describe('stand-in kit: settings', () => {
  it('keeps a switch a boolean: true or false through POST /__admin/config, anything else refused', async () => {
    const settings = new StandInSettings<BaseSettings & { verified: boolean }>({
      latencyMs: 0,
      maxTransitMs: null,
      verified: true,
    });
    // Act
    settings.update({ verified: false });
    // Assess
    expect(settings.current.verified).toBe(false);
    expect(() => settings.update({ verified: 'no' as never })).toThrow('setting "verified" must be true or false');
    expect(() => settings.update({ verified: null as never })).toThrow('setting "verified" must be true or false');
  });
});

describe('stand-in kit: refusals a misconfiguration meets', () => {
  it("answers a status fault with the error code it names, in the API's own error body", async () => {
    // Prepare
    const server = await startServer();
    await admin(server.url, 'faults', { status: 400, code: 8011, times: 1 });
    // Act
    const refused = await fetch(`${server.url}/notes`);
    // Assess
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain('8011');
  });

  it('adds the headers POST /__admin/headers names to every answer, until null removes one or a reset', async () => {
    // Prepare
    const server = await startServer();
    // Act
    await admin(server.url, 'headers', { 'X-RateLimit-Limit': '100', 'X-Other': '1' });
    const withHeaders = await fetch(`${server.url}/notes`);
    await admin(server.url, 'headers', { 'X-Other': null });
    const afterRemoval = await fetch(`${server.url}/notes`);
    await admin(server.url, 'reset', {});
    const afterReset = await fetch(`${server.url}/notes`);
    // Assess
    expect(withHeaders.headers.get('x-ratelimit-limit')).toBe('100');
    expect(afterRemoval.headers.get('x-other')).toBeNull();
    expect(afterRemoval.headers.get('x-ratelimit-limit')).toBe('100');
    expect(afterReset.headers.get('x-ratelimit-limit')).toBeNull();
  });
});
