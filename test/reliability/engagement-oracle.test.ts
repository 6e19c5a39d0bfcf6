/**
 * The chaos run's engagement check: a short scenario of follows and taps (mapped and not, redelivered, with the
 * ingest failing and a worker crash) through the real bridge passes it; the same run with one event posted a second
 * time to the ingest URL (a planted double post) fails it, naming that event. Fed lists by hand, it also reports a
 * mapped event never posted, an unmapped one posted, an event nobody sent and a body naming the LINE user.
 */
import { startChaosServices, type ChaosServices } from '../../local/chaos/chaos-services';
import { judgeEngagement } from '../../local/chaos/engagement-oracle';
import type { EngagementPlan, SentEngagement } from '../../local/chaos/engagement-scenario';
import { playScenario, QUICK_FLEET } from '../../local/chaos/play-scenario';
import { scriptedScenario } from '../../local/chaos/scenario';
import {
  LOCAL_BEHAVIOURAL_EVENTS_CREDENTIALS,
  type PostedBehaviouralEvent,
} from '../../local/standins/behavioural-events-ingest';

const TAPS: EngagementPlan = {
  events: [0, 1, 2, 3, 4, 5].flatMap((history) => [
    { history, kind: 'checkin' as const, friendship: 0, atMs: 3, lateByMs: 0, redeliveredAfterMs: [10, 200] },
    { history, kind: 'stamp' as const, friendship: 0, atMs: 1, lateByMs: 40, redeliveredAfterMs: [] },
    { history, kind: 'browse' as const, friendship: 0, atMs: 2, lateByMs: 0, redeliveredAfterMs: [5] },
  ]),
  ingestFaults: [
    null,
    { status: 503, times: 2, pathPrefix: '/webhooks/' },
    { status: 429, times: 1, pathPrefix: '/webhooks/' },
  ],
};

describe('chaos oracle: engagement events', () => {
  let services: ChaosServices;
  beforeAll(async () => {
    services = await startChaosServices();
  });
  afterAll(() => services.close());

  it('passes a run where each mapped event posted once, and fails it once an event is posted twice', async () => {
    const scenario = {
      ...scriptedScenario({
        histories: Array.from({ length: 6 }, () => [['follow', 0] as const, ['follow', 0] as const]),
        crashes: [null, null, 'before-commit', null, 'after-commit'],
      }),
      engagement: TAPS,
    };
    const run = await playScenario(services, { ...QUICK_FLEET, drainDeadlineMs: 150_000 }, scenario);
    const posted = () => services.capillary.state().behaviouralEvents.posted;
    expect(run.figures.engagement).toMatchObject({ sent: 18, mapped: 12, posts: 12, postedTwice: 0, unexpected: 0 });
    expect(run.figures.engagement.ingestFaulted).toBeGreaterThan(0);
    expect(run.problems).toEqual([]);

    // Plant: the first posted event reaches the ingest URL a second time.
    const [first] = posted();
    const response = await fetch(services.capillary.behaviouralEventsUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(LOCAL_BEHAVIOURAL_EVENTS_CREDENTIALS).toString('base64')}`,
      },
      body: JSON.stringify(first!.body),
    });
    expect(response.status).toBe(200);
    const { figures, problems } = judgeEngagement(run.deliveries.engagement, posted());
    expect(figures.postedTwice).toBe(1);
    expect(problems.map(({ detail }) => detail)).toEqual([
      `${first!.externalEventId} (${first!.eventName}): posted 2 times`,
    ]);
  }, 200_000);

  it('lets a tap of a person whose customer was deleted (PII) go unposted, never twice', () => {
    const sent = (webhookEventId: string, userId: string): SentEngagement => ({
      webhookEventId,
      userId,
      channel: 'th',
      destination: 'Ubot',
      eventName: 'line_checkin',
    });
    const post = (externalEventId: string) =>
      ({ externalEventId, eventName: 'line_checkin', body: {} }) as PostedBehaviouralEvent;
    const deleted = new Set(['Udeleted']);
    const { figures, problems } = judgeEngagement(
      [sent('E1', 'Udeleted'), sent('E2', 'Udeleted'), sent('E3', 'Ukept')],
      [post('E2'), post('E2')],
      0,
      deleted,
    );
    expect(figures).toMatchObject({ notPosted: 1, notPostedAfterDeletion: 1, postedTwice: 1 });
    expect(problems.map(({ detail }) => detail)).toEqual([
      'E2 (line_checkin): posted 2 times',
      'E3 (line_checkin): posted 0 times',
    ]);
  });

  it('allows one more post for each attempt whose answer never reached the bridge, and no other repeat', () => {
    const sent = (webhookEventId: string): SentEngagement => ({
      webhookEventId,
      userId: 'Uuser',
      channel: 'th',
      destination: 'Ubot',
      eventName: 'line_checkin',
    });
    const post = (externalEventId: string) =>
      ({ externalEventId, eventName: 'line_checkin', body: {} }) as PostedBehaviouralEvent;
    const answersLost = new Map([
      ['E1', 1],
      ['E2', 1],
    ]);
    const { figures, problems } = judgeEngagement(
      [sent('E1'), sent('E2'), sent('E3')],
      [post('E1'), post('E1'), post('E2'), post('E2'), post('E2'), post('E3'), post('E3')],
      0,
      new Set(),
      answersLost,
    );
    expect(figures).toMatchObject({ repostedAfterLostAnswer: 1, postedTwice: 2 });
    expect(problems.map(({ detail }) => detail)).toEqual([
      'E2 (line_checkin): posted 3 times, 1 answer(s) lost or not remembered',
      'E3 (line_checkin): posted 2 times',
    ]);
  });

  it('reports a mapped event never posted, an unmapped or unknown one posted, and a body naming the user', () => {
    const sent = (webhookEventId: string, eventName?: string): SentEngagement => ({
      webhookEventId,
      userId: 'Uuser',
      channel: 'th',
      destination: 'Ubot',
      eventName,
    });
    const post = (externalEventId: string, eventName: string, body: Record<string, unknown> = {}) =>
      ({ externalEventId, eventName, body }) as PostedBehaviouralEvent;
    const { figures, problems } = judgeEngagement(
      [sent('E1', 'line_checkin'), sent('E2', 'line_checkin'), sent('E3'), sent('E4', 'line_checkin')],
      [
        post('E1', 'line_checkin'),
        post('E3', 'line_checkin'),
        post('E4', 'line_checkin', { note: 'Uuser' }),
        post('E9', 'line_checkin'),
      ],
    );
    expect(figures).toMatchObject({ sent: 4, mapped: 3, posts: 4, postedTwice: 0, notPosted: 1, unexpected: 2 });
    expect(problems.map(({ detail }) => detail)).toEqual([
      'E2 (line_checkin): posted 0 times',
      'E3: no rule maps it, posted 1 time(s)',
      'E4: its body names the LINE user',
      'E9: posted 1 time(s), never sent',
    ]);
  });
});
