/**
 * The batch layer's step before its records are handled: the new followers of a batch registered in one bulk
 * upsert per channel (docs/capillary.md#live-bulk-registration), instead of one registration each.
 *
 * Every record still goes through its own handler (parse, route, per-user claim, sync, complete), so duplicates,
 * stale events and redeliveries cost no Capillary call and each user's order holds. What changes is where a
 * candidate's registration goes: the first follow of each user's group meets the channel's other candidates in a
 * BulkRound, and the round sends the registrations that are due in one call. A record Capillary rejects registers
 * on its own once (the single-record path); its failure fails only the rest of its own group.
 */
import type { SQSRecord } from 'aws-lambda';

import type { LineBulkRegistrar } from '../../capillary/bulk-upsert';
import type { CustomerDirectory, Registration } from '../../capillary/customer-directory';
import { ById } from '../../config/channels';
import { eventFactsOf, routeOf } from '../../domain/event-route';
import { logger, maskUserId } from '../../observability/telemetry';
import { parseQueuedEvent } from '../../queue/queued-event';
import type { WorkerDeps } from '../handle-queued-event';
import { BulkRound } from './bulk-round';
import { bulkPays } from './bulk-settings';

/** A channel's bulk registrar: the backfill's, writing with the channel's Capillary account. */
export interface BulkChannel {
  registrar: Pick<LineBulkRegistrar, 'upsert'>;
}

interface Candidate {
  round: BulkRound;
  userId: string;
  deps: WorkerDeps;
}

/**
 * Wraps the per-record handler: a candidate record is handled with its channel's customers behind its round;
 * every other record exactly as before. `handle` must settle for every record it is called with.
 */
export function registeringInBulk<R>(
  records: readonly SQSRecord[],
  deps: WorkerDeps,
  handle: (record: SQSRecord, deps: WorkerDeps) => Promise<R>,
): (record: SQSRecord) => Promise<R> {
  const candidates = candidatesOf(records, deps);
  return async (record) => {
    const candidate = candidates.get(record.messageId);
    if (candidate === undefined) return handle(record, deps);
    try {
      return await handle(record, candidate.deps);
    } finally {
      // Skipped, failed, or a follow of a known customer: the round stops waiting for this one.
      candidate.round.withdraw(candidate.userId);
    }
  };
}

/** The first record of each message group that is a follow for a configured channel, by message id; one round per channel. */
function candidatesOf(records: readonly SQSRecord[], deps: WorkerDeps): Map<string, Candidate> {
  const settings = deps.bulk;
  const candidates = new Map<string, Candidate>();
  if (settings === undefined) return candidates;
  const byChannel = new Map<string, Map<string, string>>();
  const seenGroups = new Set<string>();
  for (const record of records) {
    const group = record.attributes.MessageGroupId ?? record.messageId;
    if (seenGroups.has(group)) continue;
    seenGroups.add(group);
    const follow = followOf(record, deps);
    if (follow === undefined) continue;
    const users = byChannel.get(follow.channel) ?? new Map<string, string>();
    // One candidate per user and channel: a second group of the same user would register on its own.
    if (![...users.values()].includes(follow.userId)) users.set(record.messageId, follow.userId);
    byChannel.set(follow.channel, users);
  }
  for (const [channelId, users] of byChannel) {
    if (users.size < 2) continue;
    const channel = deps.channels.get(channelId) as NonNullable<ReturnType<WorkerDeps['channels']['get']>>;
    const round = new BulkRound(
      users.values(),
      (followers, call) =>
        channel.registrar.upsert(
          followers.map(({ userId }) => userId),
          call,
          new Map(followers.flatMap(({ userId, displayName }) => (displayName ? [[userId, displayName]] : []))),
        ),
      (count) => bulkPays(count, settings),
    );
    for (const [messageId, userId] of users) {
      const customers = behindRound(channel.customers, round, userId);
      const channels = new ById(
        deps.channels.all.map((other) => (other.id === channelId ? { ...other, customers } : other)),
      );
      candidates.set(messageId, { round, userId, deps: { ...deps, channels } });
    }
  }
  return candidates;
}

/** A follow routed to sync, for a channel that registers followers; undefined for anything else (handled as ever). */
function followOf(record: SQSRecord, deps: WorkerDeps): { channel: string; userId: string } | undefined {
  try {
    const message = parseQueuedEvent(record.body);
    const facts = eventFactsOf(message.event);
    const route = routeOf(facts, deps.link.settings.chat);
    const channel = deps.channels.get(message.channel);
    if (route.kind !== 'sync' || facts.type !== 'follow' || channel === undefined) return undefined;
    return channel.customers.defersRegistration ? undefined : { channel: channel.id, userId: route.userId };
  } catch {
    // Its own handler fails it with the reason.
    return undefined;
  }
}

/**
 * The channel's customers for one candidate: its registration joins the round; a rejected bulk record registers
 * on its own once. Any other call first tells the round this candidate is not registering.
 */
function behindRound(directory: CustomerDirectory, round: BulkRound, userId: string): CustomerDirectory {
  return {
    get defersRegistration() {
      return directory.defersRegistration;
    },
    async register(lineUserId, displayName, call): Promise<Registration> {
      const outcome = await round.join({ userId: lineUserId, displayName }, call);
      if (outcome?.ok) {
        const { subscribed, merged } = outcome;
        return { customerId: outcome.customerId as number, subscribed, merged };
      }
      if (outcome !== undefined)
        logger.info('Bulk record rejected by Capillary; registering on its own', {
          user: maskUserId(lineUserId),
          codes: outcome.codes,
          reason: outcome.reason,
        });
      return directory.register(lineUserId, displayName, call);
    },
    findProfileHolder(lineUserId, call) {
      round.withdraw(userId);
      return directory.findProfileHolder(lineUserId, call);
    },
    setSubscription(customerId, state, call) {
      round.withdraw(userId);
      return directory.setSubscription(customerId, state, call);
    },
    externalIdFor: (lineUserId) => directory.externalIdFor(lineUserId),
  };
}
