import type { LineCustomerDirectory } from '../capillary/customer-directory';
import type { MemberLinker } from '../capillary/member-linker';
import type { ById } from '../config/channels';
import { ChannelNotConfiguredError } from '../config/errors';
import type { WorkerLinkSettings } from '../config/link-config';
import { linkEventKind } from '../domain/link-rules';
import { decide, ignoreReason, type LineEventFacts, type SubscriptionState } from '../domain/sync-rules';
import type { LineChatClient } from '../line/link-token-client';
import type { LineProfileClient } from '../line/profile-client';
import { countForChannel, countIgnored, logger, maskUserId } from '../observability/telemetry';
import type { QueuedLineEvent } from '../queue/queued-event';
import type { LinkNonceStore } from '../store/link-nonce-store';
import type { UserSyncStore } from '../store/user-sync-store';
import { claimUserRecord, type Skipped } from './claim-user-record';
import { linkFactsOf, linkLineEvent, type LinkOutcome } from './link-line-event';

/** What one LINE channel syncs with: its LINE token and its account in its Capillary org. */
export interface ChannelSyncDeps {
  id: string;
  customers: LineCustomerDirectory;
  profiles: LineProfileClient;
  /** this channel's LINE profile on members (its Capillary account id) */
  members: MemberLinker;
  /** link tokens, replies and pushes with this channel's token */
  chat: LineChatClient;
}

export interface SyncDeps {
  store: UserSyncStore;
  channels: ById<ChannelSyncDeps>;
  link: { nonces: LinkNonceStore; settings: WorkerLinkSettings };
}

export type SyncOutcome =
  | { result: 'applied'; action: string; customerId?: number; subscription: SubscriptionState }
  | Skipped
  | { result: 'ignored'; reason: 'unsupported-type' | 'no-user-id' }
  | LinkOutcome;

export function factsOf({ event }: QueuedLineEvent): LineEventFacts {
  return {
    type: event.type,
    webhookEventId: event.webhookEventId,
    timestamp: event.timestamp,
    userId: event.source?.userId,
    isUnblocked: event.follow?.isUnblocked,
  };
}

/**
 * One queued LINE event → at most one change of the user's Capillary state, in order, once.
 * Claim the user's record (the domain rule refuses duplicates and stale events), act on Capillary,
 * then record what was applied. A throw leaves the claim to be resumed by the retry.
 * @param deadlineAt epoch ms after which no Capillary attempt starts (the invocation's end, less a reserve)
 */
export async function syncLineEvent(
  message: QueuedLineEvent,
  deps: SyncDeps,
  deadlineAt: number,
): Promise<SyncOutcome> {
  const facts = factsOf(message);
  const log = {
    channel: message.channel,
    eventId: facts.webhookEventId,
    type: facts.type,
    user: maskUserId(facts.userId),
  };
  // A channel removed from LINE_CHANNELS while its events wait: fail, so they reach the DLQ for a redrive.
  const channel = deps.channels.get(message.channel);
  if (channel === undefined) throw new ChannelNotConfiguredError(message.channel);
  const linkKind = linkEventKind(linkFactsOf(message), deps.link.settings.chat);
  if (linkKind !== undefined)
    return linkLineEvent(message, linkKind, { store: deps.store, link: deps.link, channel }, deadlineAt);
  const ignored = ignoreReason(facts);
  if (ignored) {
    countIgnored(channel.id, facts.type);
    logger.info('Event acknowledged without side effects', { ...log, reason: ignored });
    return { result: 'ignored', reason: ignored };
  }
  const key = { destination: message.destination, userId: facts.userId as string };
  const admitted = await claimUserRecord(key, facts, deps.store, channel.id);
  if ('skipped' in admitted) return admitted.skipped;
  const { state, takenOver } = admitted;

  const decision = decide(facts, state, channel.customers.defersRegistration);
  const call = { deadlineAt };
  let customerId: number | undefined;
  switch (decision.action) {
    case 'register': {
      const profile = await channel.profiles.lookup(key.userId);
      if (!profile.found)
        logger.info('LINE profile unavailable; registering without a name', { ...log, reason: profile.reason });
      const registration = await channel.customers.register(
        key.userId,
        profile.found ? profile.displayName : undefined,
        call,
      );
      customerId = registration.customerId;
      // Merges across sources are worth an audit trail (docs/capillary.md#merges).
      if (registration.merged)
        logger.info('Capillary merged the LINE profile into an existing customer (8050)', { ...log, customerId });
      if (!registration.subscribed) await channel.customers.setSubscription(customerId, decision.subscription, call);
      break;
    }
    case 'subscribe':
      customerId = decision.customerId;
      await channel.customers.setSubscription(customerId, decision.subscription, call);
      break;
    case 'record':
      break;
    case 'resolve-then-subscribe':
      // An unfollow is never lost: opt the customer out if Capillary knows them, else remember the state.
      customerId = await channel.customers.find(key.userId, call);
      if (customerId !== undefined) await channel.customers.setSubscription(customerId, decision.subscription, call);
      break;
  }
  await deps.store.complete(key, facts, { customerId, subscription: decision.subscription, restoreClaim: takenOver });
  countForChannel('EventApplied', channel.id);
  logger.info('Event applied and recorded', {
    ...log,
    action: decision.action,
    subscription: decision.subscription,
    customerId,
  });
  return { result: 'applied', action: decision.action, customerId, subscription: decision.subscription };
}
