import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';

import { ChannelDestinationMismatchError, ChannelNotConfiguredError } from '../config/errors';
import { eventFactsOf, routeOf, type EventFacts, type EventRoute, type IgnoreReason } from '../domain/event-route';
import { sharesUserIds } from '../domain/sibling-channels';
import {
  countForChannel,
  countIgnored,
  countLinkRejected,
  logger,
  maskUserId,
  metrics,
  MetricUnit,
} from '../observability/telemetry';
import { parseQueuedEvent, type QueuedLineEvent } from '../queue/queued-event';
import { ClaimHeldError } from '../store/errors';
import { claimUserRecord, type Skipped } from './claim-user-record';
import { postEngagement, type EngagementOutcome } from './engagement/post-engagement';
import { applyIdentityChange, type IdentityOutcome } from './identity/apply-identity-change';
import { reattachLineProfile, type ReattachOutcome } from './identity/reattach-line-profile';
import { completeLink } from './link/complete-link';
import type { LinkContext, LinkOutcome } from './link/link-context';
import { forgetMarksOnSiblings } from './link/sibling-profiles';
import { startLink } from './link/start-link';
import { unlink } from './link/unlink';
import {
  applyTierChange,
  menuAfterFollow,
  menuAfterIdentityChange,
  type TierOutcome,
} from './loyalty/apply-tier-change';
import { answerPoints, type PointsOutcome } from './loyalty/points-answer';
import { syncLineEvent, type SyncOutcome } from './sync/sync-line-event';
import type { ChannelClients, SyncDeps } from './worker-deps';

/** What became of a queued event that settled: its work's outcome, skipped by its user's record, or ignored. */
export type EventOutcome =
  | SyncOutcome
  | LinkOutcome
  | IdentityOutcome
  | PointsOutcome
  | TierOutcome
  | ReattachOutcome
  | EngagementOutcome
  | Skipped
  | { result: 'ignored'; reason: IgnoreReason };

/** What became of one delivery of a record: the local pipeline and the tests report it without parsing logs. */
export interface RecordSettled {
  messageId: string;
  webhookEventId: string | undefined;
  receiveCount: number;
  outcome?: EventOutcome;
  /** `heldBy`: the event whose claim turned this one back (ClaimHeldError) */
  error?: { name: string; message: string; heldBy?: string };
}

export interface WorkerDeps extends SyncDeps {
  /** Lambda passes none; the local pipeline, benchmark and tests listen here. */
  onSettled?: (settled: RecordSettled) => void;
}

/**
 * One SQS record = one queued LINE event, settled at most once: parsed, routed (domain/event-route), its
 * user's record claimed when its work changes it, then handed to its kind of work (sync/, link/, identity/). A throw
 * fails the record: SQS retries it (the retry resumes the claim), then moves it to the DLQ.
 * @param deadlineAt epoch ms after which no Capillary attempt starts (the invocation's end, less a reserve)
 */
export async function handleQueuedEvent(
  record: SQSRecord,
  deps: WorkerDeps,
  deadlineAt: number,
): Promise<EventOutcome> {
  const { messageId } = record;
  const receiveCount = Number(record.attributes.ApproximateReceiveCount);
  let message: QueuedLineEvent | undefined;
  let log: Logger = logger;
  try {
    message = parseQueuedEvent(record.body);
    const facts = eventFactsOf(message.event);
    const rules = deps.channels.get(message.channel)?.engagement?.rules ?? [];
    const route = routeOf(facts, deps.link.settings.chat, { rules, event: message.event }, deps.loyalty);
    const user = maskUserId(facts.userId);
    log = logger.createChild({
      persistentKeys: { channel: message.channel, eventId: facts.webhookEventId, type: facts.type, user },
    });
    const outcome = await settle({ message, facts, route, log }, deps, deadlineAt);
    deps.onSettled?.({ messageId, webhookEventId: facts.webhookEventId, receiveCount, outcome });
    return outcome;
  } catch (error) {
    const { name, message: detail } = error as Error;
    // A body that does not parse names no channel: it is counted in the total only.
    if (message === undefined) metrics.addMetric('EventFailed', MetricUnit.Count, 1);
    else countForChannel('EventFailed', message.channel);
    log.warn('Event failed; it will be retried', { messageId, receiveCount, error: { name, message: detail } });
    const webhookEventId = message?.event.webhookEventId;
    const heldBy = error instanceof ClaimHeldError ? error.heldBy : undefined;
    deps.onSettled?.({ messageId, webhookEventId, receiveCount, error: { name, message: detail, heldBy } });
    throw error;
  }
}

/** A queued event as the worker understands it: its facts, what it is for, and its log context. */
interface RoutedEvent {
  message: QueuedLineEvent;
  facts: EventFacts;
  route: EventRoute;
  log: Logger;
}

async function settle(
  { message, facts, route, log }: RoutedEvent,
  deps: SyncDeps,
  deadlineAt: number,
): Promise<EventOutcome> {
  // A channel removed from LINE_CHANNELS while its events wait: fail, so they reach the DLQ for a redrive.
  const channel = deps.channels.get(message.channel);
  if (channel === undefined) throw new ChannelNotConfiguredError(message.channel);
  if (route.kind === 'ignored' || route.kind === 'link-refused') return acknowledge(route, facts.type, channel.id, log);
  const call = { deadlineAt };
  const owner = { channel: channel.id, capillaryOrg: channel.capillaryOrg };
  const key = { destination: message.destination, userId: route.userId, owner };
  if (route.kind === 'points') return answerPoints({ key, facts, channel, deps, log, call });
  const lanedFacts = { ...facts, lane: route.lane };
  if (route.kind === 'engagement') {
    const engagement = { rule: route.rule, event: message.event };
    const record = { key, facts: lanedFacts, store: deps.store };
    return postEngagement(record, engagement, channel, { posted: deps.engagement.posted, log, call });
  }
  const claim = await claimUserRecord(key, lanedFacts, deps.store, channel.id, log);
  if ('skipped' in claim) {
    // Found stale here, it never runs again: its marks on the siblings go (as when it finishes, below).
    if (claim.skipped.reason === 'stale' && route.lane === 'link')
      await forgetMarksOnSiblings(siblingChannels(deps, channel), key, lanedFacts, deps.store);
    return claim.skipped;
  }
  // The claimed event goes to its kind of work, which completes the claim.
  const { claimed } = claim;
  if (route.kind === 'sync') {
    const outcome = await syncLineEvent(claimed, channel, log, call);
    await menuAfterFollow(channel, { userId: route.userId, state: claimed.state, outcome }, { log, call });
    return outcome;
  }
  const { nonces, settings } = deps.link;
  if (route.kind === 'tier') return applyTierChange({ claimed, notice: route.notice, channel, log });
  if (route.kind === 'identity') {
    const { notice, userId } = route;
    const { deletions } = deps;
    const outcome = await applyIdentityChange({
      claimed,
      notice,
      deletions,
      nonces,
      channel,
      log,
      call,
      now: Date.now(),
    });
    await menuAfterIdentityChange(channel, { userId, state: claimed.state, notice, outcome }, { log, call });
    return outcome;
  }
  const siblings = { channels: siblingChannels(deps, channel), records: deps.store };
  // Siblings' records are keyed by each channel's bot user id as configured or as LINE gives it: if this channel's
  // disagrees with its own webhook's destination, the siblings' would be other records than their events use.
  if (siblings.channels.length > 0 && (await channel.destination()) !== message.destination)
    throw new ChannelDestinationMismatchError(channel.id);
  const link: LinkContext = { claimed, facts, channel, nonces, siblings, settings, log, call, now: Date.now() };
  const outcome = await linkWork(link, route);
  // Done here, it leaves no in-flight mark on a sibling: an earlier attempt's, on a record this one never reached (a
  // refusal, a failure, "not linked"), would hold that record's link lane for good.
  await forgetMarksOnSiblings(siblings.channels, key, lanedFacts, deps.store);
  return outcome;
}

type LinkRoute = Extract<EventRoute, { lane: 'link' }>;
function linkWork(link: LinkContext, route: LinkRoute): Promise<LinkOutcome | ReattachOutcome | Skipped> {
  switch (route.kind) {
    case 'start-link':
      return startLink(link);
    case 'complete-link':
      return completeLink(link, route);
    case 'unlink':
      return unlink(link, route);
    case 'reattach':
      return reattachLineProfile(link, route.request);
  }
}

/** Nothing to apply: counted and logged, never retried. */
function acknowledge(
  route: Extract<EventRoute, { kind: 'ignored' | 'link-refused' }>,
  eventType: string,
  channel: string,
  log: Logger,
): EventOutcome {
  if (route.kind === 'ignored') {
    countIgnored(channel, eventType);
    log.info('Event acknowledged without side effects', { reason: route.reason });
    return { result: 'ignored', reason: route.reason };
  }
  // LINE's `failed` carries no user and no reply token: nothing to apply, but worth a count and a line.
  countLinkRejected(channel, route.reason);
  log.warn('Account link event without a linkable user acknowledged', { reason: route.reason });
  return { result: 'rejected', reason: route.reason };
}

/** The org's other channels of this channel's LINE provider: they see the same user id (domain/sibling-channels). */
const siblingChannels = (deps: SyncDeps, channel: ChannelClients) =>
  deps.channels.all.filter((other) => sharesUserIds(channel, other));
