/**
 * Figure 5d (issue 21): a burst of postback taps from existing customers, mapped by a rule to a Capillary behavioural
 * event, while new followers arrive (instore+line), against the same arrivals with no burst. As deployed, the webhook
 * queues the taps on the engagement queue and the follows on the events queue, and each queue's event source runs its
 * own worker instances (worker-instance-child.ts, bulk registration on as deployed; workerMaxConcurrency and
 * engagementMaxConcurrency), against the stand-ins enforcing Capillary's REST limit and the ingest URL's own.
 *
 * Each queue is played as SQS FIFO hands it to Lambda: oldest message first, a message group (one user) with a batch
 * in flight is skipped, and a batch starts with as many messages of one group as it can take ("Amazon SQS first
 * attempts to return as many messages with the same message group ID as possible", FIFO queue delivery logic in the
 * SQS developer guide). A follower's delay, from its arrival to its registration recorded, includes its queue's wait.
 * The run stops once every follower is synced, or `waitSeconds` after the last one arrived: a follower still queued
 * then counts its wait so far, and the ratio is a lower bound.
 */
import type { SQSRecord } from 'aws-lambda';

import { DEFAULT_CAPILLARY_ORG_ID, DEFAULT_CHANNEL_ID } from '../lib/config/channels';
import type { WorkerConfig } from '../lib/config/worker-config';
import { parseEngagementRules } from '../lib/domain/engagement-rules';
import { DESTINATION, followEvent, lineUserId, postbackEvent, webhookEventId } from '../local/line-event-factory';
import { sqsRecordFor, startWorkerHarness, type WorkerHarness } from '../local/rigs/worker-rig';
import { LOCAL_BEHAVIOURAL_EVENTS_CREDENTIALS } from '../local/standins/behavioural-events-ingest';
import type { ChildChannel } from './child-channel';
import type { BenchProfile } from './profiles';
import { percentile, round } from './stats';
import { renderTable } from './table';
import { REGISTRATION_VARIANTS } from './worker-economy';
import { startInstance, type BatchDone, type ThroughputSettings } from './worker-throughput';

export const ENGAGEMENT_FIGURE = 'Figure 5d';
const VARIANT = 'instore+line';
const { rules: RULES } = parseEngagementRules(
  [
    {
      type: 'postback',
      data: 'action=checkin*',
      event: 'line_checkin',
      attributes: { postback_data: 'postback.data' },
    },
  ],
  'bench',
);
const POLL_MS = 10;

type EngagementProfile = BenchProfile['engagement'];

export interface EngagementRun {
  burst: boolean;
  followers: number;
  followersSynced: number;
  /** still queued (or failed) when the run stopped: their delay is their wait until then */
  followersUnsynced: number;
  /** arrival → registration recorded, 99th percentile */
  followerDelayP99Ms: number;
  /** handed to a worker → registration recorded, 99th percentile (the worker's own time, queue wait left out) */
  followerWorkP99Ms: number;
  /** distinct taps the ingest took */
  tapsPosted: number;
  /** taps still queued when the run stopped */
  tapsQueued: number;
  /** every POST to the ingest URL, refused ones included */
  ingestCalls: number;
  /** taps the ingest took more than once */
  tapsPostedTwice: number;
  /** Capillary REST calls accepted (OAuth token requests excluded) */
  capillaryCalls: number;
  overLimit: { capillary: number; ingest: number };
  failedEvents: number;
  elapsedSeconds: number;
}

export interface EngagementFigures {
  variant: typeof VARIANT;
  /** per run with the burst */
  taps: number;
  tappers: number;
  /** each a run without the burst, then one with it; `runs` pools the rounds' followers and adds up their counts */
  rounds: number;
  /** the events queue's worker instances */
  concurrency: number;
  /** the engagement queue's */
  engagementConcurrency: number;
  rateLimitPerMinute: number;
  ingestRateLimitPerMinute: number;
  /** follower delay p99 with the burst ÷ without */
  followerDelayP99Ratio: number;
  /** followers were still queued at the stop: the true ratio is higher */
  ratioIsLowerBound: boolean;
  /** the worker's own time for a follower, p99 with the burst ÷ without (the separate bucket's part) */
  followerWorkP99Ratio: number;
  /** ingest calls ÷ distinct taps posted, in the burst run */
  ingestCallsPerEvent: number;
  /** calls refused over Capillary's limit or the ingest URL's, both runs */
  overLimit: number;
  runs: { withoutBurst: EngagementRun; withBurst: EngagementRun };
}

interface Queued {
  record: SQSRecord;
  group: string;
}

/** A FIFO queue as SQS delivers it to Lambda's poller (see the top of this file). */
class FifoQueue {
  #waiting: Queued[] = [];
  readonly #inFlight = new Set<string>();

  get length(): number {
    return this.#waiting.length;
  }

  send(message: Queued): void {
    this.#waiting.push(message);
  }

  receive(max: number): Queued[] {
    const first = this.#waiting.find(({ group }) => !this.#inFlight.has(group));
    if (first === undefined) return [];
    const batch = new Set(this.#waiting.filter(({ group }) => group === first.group).slice(0, max));
    for (const message of this.#waiting) {
      if (batch.size >= max) break;
      if (!this.#inFlight.has(message.group)) batch.add(message);
    }
    this.#waiting = this.#waiting.filter((message) => !batch.has(message));
    for (const { group } of batch) this.#inFlight.add(group);
    return [...batch];
  }

  done(batch: readonly Queued[]): void {
    for (const { group } of batch) this.#inFlight.delete(group);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function engagementSettings(url: string, rateLimitPerMinute: number): WorkerConfig['engagement'] {
  return {
    rulesByChannel: new Map([[DEFAULT_CHANNEL_ID, RULES]]),
    posting: {
      url,
      credentials: LOCAL_BEHAVIOURAL_EVENTS_CREDENTIALS,
      timeZone: 'UTC',
      customerField: 'customer_id',
      rateLimitPerMinute,
    },
  };
}

/** Existing customers, their records written as an earlier follow left them (no Capillary call, no token taken). */
async function seedTappers({ capillary, store }: WorkerHarness, count: number): Promise<string[]> {
  const users = Array.from({ length: count }, lineUserId);
  const followedAt = Date.now() - 3_600_000;
  for (let start = 0; start < users.length; start += 50) {
    await Promise.all(
      users.slice(start, start + 50).map(async (userId, index) => {
        const key = {
          destination: DESTINATION,
          userId,
          owner: { channel: DEFAULT_CHANNEL_ID, capillaryOrg: DEFAULT_CAPILLARY_ORG_ID },
        };
        const facts = { type: 'follow', webhookEventId: webhookEventId(), timestamp: followedAt, userId };
        const customerId = capillary.addMember({ mobile: `6689${String(start + index).padStart(7, '0')}` });
        await store.claim(key, facts);
        await store.complete(key, facts, { customerId, subscription: 'OPTIN' });
      }),
    );
  }
  return users;
}

/**
 * When each event arrives (ms from the start), followers evenly and each tapper's taps in a random order, each with
 * its SQS record made before the clock starts: making 10,000 records while the run goes is the harness's work (LINE's,
 * as deployed), and done in the process that also answers for Capillary and LINE it slowed the followers down.
 */
function arrivalPlan(profile: EngagementProfile, tappers: readonly string[]): Arrival[] {
  const spanMs = profile.arrivalSeconds * 1000;
  const followerGapMs = 60_000 / profile.followersPerMinute;
  const madeAt = Date.now();
  const followers = Array.from({ length: Math.floor(spanMs / followerGapMs) + 1 }, (_, index) => ({
    atMs: index * followerGapMs,
    follower: true,
    record: sqsRecordFor(followEvent(lineUserId(), madeAt)),
  }));
  const tapOrder = Array.from(
    { length: tappers.length === 0 ? 0 : profile.taps },
    (_, index) => tappers[index % tappers.length] as string,
  );
  for (let index = tapOrder.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [tapOrder[index], tapOrder[other]] = [tapOrder[other] as string, tapOrder[index] as string];
  }
  const taps = tapOrder.map((tapper, index) => ({
    atMs: (index * spanMs) / tapOrder.length,
    follower: false,
    record: sqsRecordFor(postbackEvent(tapper, madeAt, 'action=checkin&store=shibuya')),
  }));
  return [...followers, ...taps].sort((a, b) => a.atMs - b.atMs);
}

interface Arrival {
  atMs: number;
  follower: boolean;
  record: SQSRecord;
}

/** One run's figures, with every follower's delay and work time, so that rounds pool them before the p99. */
type RunSamples = EngagementRun & { delaysMs: number[]; worksMs: number[] };

async function runOnce(
  profile: EngagementProfile,
  settings: ThroughputSettings,
  ingestRateLimitPerMinute: number,
  burst: boolean,
): Promise<RunSamples> {
  const { rateLimitPerMinute, latencyMs } = profile;
  const harness = await startWorkerHarness({
    capillary: { ...REGISTRATION_VARIANTS[VARIANT], rateLimitPerMinute },
    capillaryStandIn: { latencyMs, rateLimitPerMinute, behaviouralEventsRateLimitPerMinute: ingestRateLimitPerMinute },
    lineStandIn: { latencyMs },
    engagement: (capillary) => engagementSettings(capillary.behaviouralEventsUrl, ingestRateLimitPerMinute),
  });
  const instances: ChildChannel[] = [];
  const queues = { events: new FifoQueue(), engagement: new FifoQueue() };
  // Each queue's event source with its own instances, as deployed.
  const sources = [
    ...Array.from({ length: settings.deployedConcurrency }, () => queues.events),
    ...Array.from({ length: settings.engagementConcurrency }, () => queues.engagement),
  ];
  try {
    instances.push(
      ...(await Promise.all(
        sources.map(() =>
          startInstance({
            config: harness.config,
            worker: settings.worker,
            singleRegistrations: false,
            engagementRules: RULES,
          }),
        ),
      )),
    );
    // The tappers are customers in both runs: only their taps differ.
    const tappers = await seedTappers(harness, profile.tappers);
    const plan = arrivalPlan(profile, burst ? tappers : []);
    const followers: { arrivedAt: number; handedAt?: number; settledAt?: number }[] = [];
    const byMessageId = new Map<string, (typeof followers)[number]>();
    let failedEvents = 0;
    const started = Date.now();
    const stopAt = started + (profile.arrivalSeconds + profile.waitSeconds) * 1000;
    const allArrived = () => plan.length === 0;
    const finished = () =>
      Date.now() >= stopAt || (allArrived() && followers.every((follower) => follower.settledAt !== undefined));

    const feed = async () => {
      while (plan.length > 0) {
        const now = Date.now();
        while (plan.length > 0 && started + (plan[0]?.atMs ?? 0) <= now) {
          const { follower, record } = plan.shift()!;
          if (follower) {
            const arrived = { arrivedAt: now };
            followers.push(arrived);
            byMessageId.set(record.messageId, arrived);
          }
          // As the webhook routes them: a tap a rule maps to the engagement queue, a follow to the events queue.
          (follower ? queues.events : queues.engagement).send({
            record,
            group: record.attributes.MessageGroupId ?? '',
          });
        }
        await sleep(POLL_MS);
      }
    };
    const work = async (instance: ChildChannel, queue: FifoQueue) => {
      while (!finished()) {
        const batch = queue.receive(settings.batchSize);
        if (batch.length === 0) {
          await sleep(POLL_MS);
          continue;
        }
        const handedAt = Date.now();
        for (const { record } of batch) {
          const follower = byMessageId.get(record.messageId);
          if (follower) follower.handedAt = handedAt;
        }
        const done = await instance.request<BatchDone>(batch.map(({ record }) => record));
        failedEvents += done.failedEvents;
        for (const [messageId, at] of Object.entries(done.settledAt)) {
          const follower = byMessageId.get(messageId);
          if (follower) follower.settledAt = at;
        }
        queue.done(batch);
      }
    };
    await Promise.all([feed(), ...instances.map((instance, index) => work(instance, sources[index] as FifoQueue))]);
    const stoppedAt = Date.now();

    const synced = followers.filter((follower) => follower.settledAt !== undefined);
    const delaysMs = followers.map((follower) => (follower.settledAt ?? stoppedAt) - follower.arrivedAt);
    const worksMs = synced.map((follower) => follower.settledAt! - follower.handedAt!);
    const { posted, duplicates, overLimit } = harness.capillary.state().behaviouralEvents;
    const calls = harness.capillary.calls();
    const isIngest = (path: string) => path.startsWith('/webhooks/');
    return {
      burst,
      followers: followers.length,
      followersSynced: synced.length,
      followersUnsynced: followers.length - synced.length,
      followerDelayP99Ms: p99(delaysMs),
      followerWorkP99Ms: p99(worksMs),
      delaysMs,
      worksMs,
      tapsPosted: new Set(posted.map((event) => event.externalEventId)).size,
      tapsQueued: queues.engagement.length,
      ingestCalls: calls.filter((call) => isIngest(call.path)).length,
      tapsPostedTwice: Object.keys(duplicates).length,
      capillaryCalls: calls.filter(
        (call) => !isIngest(call.path) && !call.path.startsWith('/v3/oauth') && call.status !== 429,
      ).length,
      overLimit: { capillary: harness.capillary.overLimitCount(), ingest: overLimit },
      failedEvents,
      elapsedSeconds: round((stoppedAt - started) / 1000, 1),
    };
  } finally {
    for (const instance of instances) instance.stop();
    await harness.close();
  }
}

const p99 = (samples: readonly number[]): number =>
  samples.length === 0 ? NaN : Math.round(percentile(samples, 0.99));

/** The rounds' runs of one kind as one: counts added up, p99s over every follower of every round. */
function pooled(runs: readonly RunSamples[]): EngagementRun {
  const sum = (figure: (run: RunSamples) => number) => runs.reduce((total, run) => total + figure(run), 0);
  return {
    burst: runs[0]?.burst ?? false,
    followers: sum((run) => run.followers),
    followersSynced: sum((run) => run.followersSynced),
    followersUnsynced: sum((run) => run.followersUnsynced),
    followerDelayP99Ms: p99(runs.flatMap((run) => run.delaysMs)),
    followerWorkP99Ms: p99(runs.flatMap((run) => run.worksMs)),
    tapsPosted: sum((run) => run.tapsPosted),
    tapsQueued: sum((run) => run.tapsQueued),
    ingestCalls: sum((run) => run.ingestCalls),
    tapsPostedTwice: sum((run) => run.tapsPostedTwice),
    capillaryCalls: sum((run) => run.capillaryCalls),
    overLimit: { capillary: sum((run) => run.overLimit.capillary), ingest: sum((run) => run.overLimit.ingest) },
    failedEvents: sum((run) => run.failedEvents),
    elapsedSeconds: round(
      sum((run) => run.elapsedSeconds),
      1,
    ),
  };
}

/** Needs DynamoDB (dynalite) endpoints in process.env. */
export async function measureEngagementBurst(
  profile: EngagementProfile,
  settings: ThroughputSettings,
  progress: (line: string) => void,
): Promise<EngagementFigures> {
  const ingestRateLimitPerMinute =
    profile.ingestRateLimitPerMinute ?? Number(settings.worker.environment.CAPILLARY_BEHAVIOURAL_EVENTS_RATE_LIMIT_RPM);
  const report = (run: EngagementRun) =>
    progress(
      `figure 5d: ${run.burst ? 'with' : 'without'} the burst: ${run.followersSynced}/${run.followers} followers synced, ` +
        `delay p99 ${run.followerDelayP99Ms} ms; ${run.tapsPosted} taps posted, ${run.tapsQueued} still queued`,
    );
  // Rounds alternate the two runs, so that what else the machine does weighs on both alike; their followers pool.
  const rounds: { withoutBurst: RunSamples[]; withBurst: RunSamples[] } = { withoutBurst: [], withBurst: [] };
  for (let round = 0; round < profile.rounds; round++) {
    for (const burst of [false, true]) {
      const run = await runOnce(profile, settings, ingestRateLimitPerMinute, burst);
      report(run);
      (burst ? rounds.withBurst : rounds.withoutBurst).push(run);
    }
  }
  const [withoutBurst, withBurst] = [pooled(rounds.withoutBurst), pooled(rounds.withBurst)];
  const sumOverLimit = (run: EngagementRun) => run.overLimit.capillary + run.overLimit.ingest;
  return {
    variant: VARIANT,
    taps: profile.taps,
    tappers: profile.tappers,
    rounds: profile.rounds,
    concurrency: settings.deployedConcurrency,
    engagementConcurrency: settings.engagementConcurrency,
    rateLimitPerMinute: profile.rateLimitPerMinute,
    ingestRateLimitPerMinute,
    followerDelayP99Ratio: round(withBurst.followerDelayP99Ms / withoutBurst.followerDelayP99Ms, 2),
    ratioIsLowerBound: withBurst.followersUnsynced > 0,
    followerWorkP99Ratio: round(withBurst.followerWorkP99Ms / withoutBurst.followerWorkP99Ms, 2),
    ingestCallsPerEvent: round(withBurst.ingestCalls / withBurst.tapsPosted, 3),
    overLimit: sumOverLimit(withoutBurst) + sumOverLimit(withBurst),
    runs: { withoutBurst, withBurst },
  };
}

export function engagementTable(figures: EngagementFigures, profile: EngagementProfile): string {
  const rows: [string, EngagementRun][] = [
    ['no burst', figures.runs.withoutBurst],
    [`${figures.taps} taps from ${figures.tappers} users, per run`, figures.runs.withBurst],
  ];
  return renderTable(
    `${ENGAGEMENT_FIGURE} — postback taps (engagement events) while new followers arrive (${VARIANT}, ` +
      `${figures.rateLimitPerMinute}/min Capillary, ${figures.ingestRateLimitPerMinute}/min ingest URL, ` +
      `${figures.concurrency} workers on the events queue and ${figures.engagementConcurrency} on the engagement queue, ` +
      `${profile.followersPerMinute} followers/min and the taps over ${profile.arrivalSeconds} s, ` +
      `stop ${profile.waitSeconds} s after the last; stand-ins answer in ${profile.latencyMs} ms; ` +
      `${figures.rounds} rounds of a run without the burst then one with it, their followers pooled)`,
    [
      'run',
      'followers synced',
      'still queued at the stop',
      'follower delay p99 ms',
      'follower work p99 ms',
      'taps posted',
      'taps still queued',
      'ingest calls',
      'posted twice',
      'Capillary calls',
      'over limit (Capillary, ingest)',
      'failed',
      's',
    ],
    rows.map(([name, run]) => [
      name,
      `${run.followersSynced}/${run.followers}`,
      run.followersUnsynced,
      `${run.followersUnsynced > 0 ? '≥ ' : ''}${run.followerDelayP99Ms}`,
      run.followerWorkP99Ms,
      run.tapsPosted,
      run.tapsQueued,
      run.ingestCalls,
      run.tapsPostedTwice,
      run.capillaryCalls,
      `${run.overLimit.capillary}, ${run.overLimit.ingest}`,
      run.failedEvents,
      run.elapsedSeconds,
    ]),
  );
}
