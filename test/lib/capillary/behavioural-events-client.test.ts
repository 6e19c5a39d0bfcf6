import {
  BehaviouralEventsClient,
  type BehaviouralEventsClientOptions,
  type FetchLike,
} from '../../../lib/capillary/behavioural-events-client';
import {
  BehaviouralEventsCredentialsError,
  BehaviouralEventsUnavailableError,
} from '../../../lib/capillary/behavioural-events-errors';
import type { RateLimiter } from '../../../lib/capillary/rate-limiter';
import type { BehaviouralEventBody } from '../../../lib/domain/behavioural-event-body';
import { LOCAL_BEHAVIOURAL_EVENTS_CREDENTIALS } from '../../../local/standins/behavioural-events-ingest';
import { startCapillaryStandIn, type CapillaryStandIn } from '../../../local/standins/capillary-standin';

const CHECKIN: BehaviouralEventBody = {
  event_name: 'line_checkin',
  external_event_id: '01JH9P0STBACK0CHECKIN00001',
  eventDateTime: '2026-01-01 12:34:56',
  customer_id: '500000001',
  postback_data: 'action=checkin&store=shibuya',
};
const IN_A_MINUTE = () => ({ deadlineAt: Date.now() + 60_000 });

describe('BehaviouralEventsClient against the Capillary stand-in', () => {
  let standIn: CapillaryStandIn;
  let sleeps: number[];
  /** every take the client asked its limiter for, as [tokens, deadlineAt] */
  let takes: [number, number][];
  let budget: boolean;
  const limiter: RateLimiter = {
    take: async (tokens, deadlineAt) => {
      takes.push([tokens, deadlineAt]);
      return budget;
    },
  };

  beforeEach(async () => {
    standIn = await startCapillaryStandIn();
    sleeps = [];
    takes = [];
    budget = true;
  });
  afterEach(() => standIn.close());

  const client = (overrides: Partial<BehaviouralEventsClientOptions> = {}) =>
    new BehaviouralEventsClient({
      url: standIn.behaviouralEventsUrl,
      credentials: LOCAL_BEHAVIOURAL_EVENTS_CREDENTIALS,
      timeoutMs: 1000,
      maxAttempts: 3,
      limiter,
      channel: 'default',
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 1,
      ...overrides,
    });
  const posted = () => standIn.state().behaviouralEvents.posted;
  const onWebhooks = { pathPrefix: '/webhooks/' };

  it('posts the body as given with Basic auth of user:password, and reports Capillary’s request id', async () => {
    // Act
    const result = await client().post(CHECKIN, IN_A_MINUTE());

    // Assess
    expect(result).toEqual({
      outcome: 'posted',
      status: 200,
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      attempts: 1,
    });
    expect(posted().map((event) => event.body)).toEqual([CHECKIN]);
    expect(takes).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it.each([429, 500, 503])('retries %d with backoff, then posts once', async (status) => {
    // Prepare
    standIn.injectFault({ status: status as 429 | 500 | 503, times: 2, ...onWebhooks });

    // Act
    const result = await client().post(CHECKIN, IN_A_MINUTE());

    // Assess
    expect(result).toMatchObject({ outcome: 'posted', attempts: 3 });
    expect(sleeps).toEqual([200, 400]); // full jitter at its ceiling (random = 1)
    expect(takes).toHaveLength(3);
    expect(posted()).toHaveLength(1);
  });

  it('throws the retryable error after the last attempt, having posted nothing', async () => {
    standIn.injectFault({ status: 500, times: 3, ...onWebhooks });
    const failure = client().post(CHECKIN, IN_A_MINUTE());
    await expect(failure).rejects.toThrow(BehaviouralEventsUnavailableError);
    await expect(failure).rejects.toMatchObject({ eventName: 'line_checkin', attempts: 3, lastProblem: 'HTTP 500' });
    expect(posted()).toEqual([]);
  });

  it('retries an attempt that times out', async () => {
    standIn.injectFault({ kind: 'timeout', delayMs: 2000, times: 1, ...onWebhooks });
    const result = await client({ timeoutMs: 300 }).post(CHECKIN, IN_A_MINUTE());
    expect(result).toMatchObject({ outcome: 'posted', attempts: 2 });
    expect(posted()).toHaveLength(1);
  });

  it('repeats after a lost answer: the stand-in shows the duplicate the event’s unique key guards against', async () => {
    standIn.injectFault({ kind: 'lost-response', times: 1, ...onWebhooks });
    expect(await client().post(CHECKIN, IN_A_MINUTE())).toMatchObject({ outcome: 'posted', attempts: 2 });
    expect(standIn.state().behaviouralEvents.duplicates).toEqual({ '01JH9P0STBACK0CHECKIN00001': 2 });
  });

  it('returns a 400 that names bad input as refused, with Capillary’s message, and does not retry it', async () => {
    // Prepare
    standIn.refuseBehaviouralEvents({ times: 1, message: 'Attribute postback_data is not defined for the event' });

    // Act
    const result = await client().post(CHECKIN, IN_A_MINUTE());

    // Assess
    expect(result).toEqual({
      outcome: 'refused',
      status: 400,
      message: 'Attribute postback_data is not defined for the event',
      requestId: expect.any(String), // the stand-in's X-Cap-Requestid header
      attempts: 1,
    });
    expect(takes).toHaveLength(1);
    expect(posted()).toEqual([]);
  });

  it('returns a body the ingest finds malformed as refused', async () => {
    const result = await client().post({ ...CHECKIN, eventDateTime: '2026-01-01T12:34:56Z' }, IN_A_MINUTE());
    expect(result).toMatchObject({
      outcome: 'refused',
      status: 400,
      message: 'eventDateTime must be yyyy-MM-dd HH:mm:ss',
    });
  });

  it('returns a 404 (no such integration) as refused', async () => {
    const result = await client({ url: `${standIn.url}/webhooks/unknown` }).post(CHECKIN, IN_A_MINUTE());
    expect(result).toMatchObject({ outcome: 'refused', status: 404, message: 'No webhook integration unknown' });
  });

  it('throws the credentials error for refused credentials, without repeating the call', async () => {
    const failure = client({ credentials: 'local.events:wrong' }).post(CHECKIN, IN_A_MINUTE());
    await expect(failure).rejects.toThrow(BehaviouralEventsCredentialsError);
    await expect(failure).rejects.toMatchObject({ status: 401 });
    expect(takes).toHaveLength(1);
    expect(standIn.calls()).toHaveLength(1);
  });

  it('retries network errors, then throws the retryable error naming the problem', async () => {
    const closedPort = standIn.url;
    await standIn.close();
    standIn = await startCapillaryStandIn(); // for afterEach
    const failure = client({ url: `${closedPort}/webhooks/local-engagement` }).post(CHECKIN, IN_A_MINUTE());
    await expect(failure).rejects.toMatchObject({
      name: 'BehaviouralEventsUnavailableError',
      attempts: 3,
      lastProblem: expect.stringMatching(/^network error/),
    });
  });

  it('starts no attempt that could not finish before the deadline', async () => {
    const failure = client().post(CHECKIN, { deadlineAt: Date.now() + 100 });
    await expect(failure).rejects.toMatchObject({
      name: 'BehaviouralEventsUnavailableError',
      attempts: 0,
      lastProblem: 'no time left in this invocation',
    });
    expect(standIn.calls()).toEqual([]);
  });

  it('cuts an attempt short at the deadline, then gives up with the problem it met', async () => {
    // Prepare
    standIn.injectFault({ kind: 'timeout', delayMs: 3000, times: 1, ...onWebhooks });
    const deadlineAt = Date.now() + 700;

    // Act
    const failure = client({ timeoutMs: 5000 }).post(CHECKIN, { deadlineAt });

    // Assess
    await expect(failure).rejects.toMatchObject({
      attempts: 1,
      lastProblem: expect.stringMatching(/^timeout after \d+ ms$/),
    });
    expect(Date.now()).toBeLessThan(deadlineAt + 200);
  });

  it('asks the limiter for one token per attempt before the deadline, and gives up when it has none', async () => {
    // Prepare
    budget = false;
    const deadlineAt = Date.now() + 60_000;

    // Act
    const failure = client().post(CHECKIN, { deadlineAt });

    // Assess
    await expect(failure).rejects.toMatchObject({ name: 'BehaviouralEventsUnavailableError', attempts: 0 });
    expect(takes).toEqual([[1, deadlineAt - 250]]);
    expect(standIn.calls()).toEqual([]);
  });
});

describe('BehaviouralEventsClient: what a refusal says', () => {
  const answering =
    (status: number, text: string): FetchLike =>
    async () =>
      new Response(text, { status, headers: { 'x-cap-requestid': 'req-1' } });
  const refusal = (status: number, text: string) =>
    new BehaviouralEventsClient({
      url: 'https://ingest.example/webhooks/x',
      credentials: 'u:p',
      timeoutMs: 1000,
      maxAttempts: 1,
      limiter: { take: async () => true },
      channel: 'default',
      fetch: answering(status, text),
    }).post(CHECKIN, IN_A_MINUTE());

  it.each([
    [
      'errors[] messages',
      400,
      '{"warnings":[],"errors":[{"status":false,"code":1,"message":"a"},{"code":2,"message":"b"}]}',
      'a; b',
    ],
    [
      "the ingest's status.message",
      400,
      '{"status":{"code":1101,"message":"Invalid event"},"requestId":"r"}',
      'Invalid event',
    ],
    ["a gateway's message", 422, '{"message":"Unprocessable"}', 'Unprocessable'],
    ['a text answer, as is', 413, '<html>Request Entity Too Large</html>', '<html>Request Entity Too Large</html>'],
    ['a long answer, cut at 300 characters', 400, 'x'.repeat(400), 'x'.repeat(300)],
  ])('%s', async (_name, status, text, message) => {
    expect(await refusal(status, text)).toMatchObject({ outcome: 'refused', status, message });
  });

  it('takes the request id from the body when Capillary puts it there, else from the header', async () => {
    expect(await refusal(400, '{"status":{"message":"m"},"requestId":"in-body"}')).toMatchObject({
      requestId: 'in-body',
    });
    expect(await refusal(400, '{}')).toMatchObject({ requestId: 'req-1', message: '{}' });
  });

  it('sends Basic base64(user:password) and the JSON body', async () => {
    const seen: { headers: Record<string, string>; body: string }[] = [];
    const client = new BehaviouralEventsClient({
      url: 'https://ingest.example/webhooks/x',
      credentials: 'events-user:pa:ss',
      timeoutMs: 1000,
      maxAttempts: 1,
      limiter: { take: async () => true },
      channel: 'default',
      fetch: async (_url, init) => {
        seen.push({ headers: init.headers, body: init.body });
        return new Response('{}', { status: 200 });
      },
    });
    expect(await client.post(CHECKIN, IN_A_MINUTE())).toMatchObject({ outcome: 'posted', requestId: undefined });
    expect(seen[0]?.headers.authorization).toBe(`Basic ${Buffer.from('events-user:pa:ss').toString('base64')}`);
    expect(JSON.parse(seen[0]!.body)).toEqual(CHECKIN);
  });
});
