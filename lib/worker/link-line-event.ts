import { createHash } from 'node:crypto';

import type { LineCustomerDirectory } from '../capillary/customer-directory';
import type { MemberLinker } from '../capillary/member-linker';
import type { WorkerLinkSettings } from '../config/link-config';
import {
  anonymousCustomerAction,
  BRIDGE_LINK_TYPE,
  linkPageUrl,
  nonceVerdict,
  subscriptionOnLink,
  type LinkEventFacts,
  type LinkEventKind,
  type LinkRejection,
  type NonceRecord,
} from '../domain/link-rules';
import type { LineEventFacts, UserSyncState } from '../domain/sync-rules';
import type { LineWebhookEvent } from '../line/callback';
import { LineApiError } from '../line/errors';
import type { LineChatClient, LineMessage } from '../line/link-token-client';
import { countForChannel, countLinkFailed, countLinkRejected, logger, maskUserId } from '../observability/telemetry';
import type { QueuedLineEvent } from '../queue/queued-event';
import type { LinkNonceStore } from '../store/link-nonce-store';
import type { AppliedChange, LineUserKey, TakenOverClaim, UserSyncStore } from '../store/user-sync-store';
import { claimUserRecord, type Skipped } from './claim-user-record';

/** What a link event needs: the user records, the link state, and its channel's Capillary and LINE clients. */
interface Deps {
  store: UserSyncStore;
  link: { nonces: LinkNonceStore; settings: WorkerLinkSettings };
  channel: { id: string; customers: LineCustomerDirectory; members: MemberLinker; chat: LineChatClient };
}

export type LinkOutcome =
  | {
      result: 'link';
      action: 'linked' | 'link-failed' | 'merge-pending' | 'unlinked' | 'not-linked' | 'link-started';
      customerId?: number;
      detail?: string;
    }
  | {
      result: 'rejected';
      reason: LinkRejection | 'failed-at-line' | 'no-user-id' | 'link-page-not-configured' | 'refused-by-line';
    };

/** LINE's link tokens are valid for 10 minutes (docs/line.md#account-link). */
const LINK_TOKEN_VALIDITY_MS = 10 * 60 * 1000;

const START_LINK_TEXT = 'Link your LINE account to your membership. You can unlink at any time from this chat.';
const UNLINKED_TEXT = 'Your LINE account is no longer linked to your membership.';
const NOT_LINKED_TEXT = 'Your LINE account is not linked to a membership.';

export function linkFactsOf({ event }: QueuedLineEvent): LinkEventFacts {
  const link = event.link as { result?: unknown; nonce?: unknown } | undefined;
  const postback = event.postback as { data?: unknown } | undefined;
  const message = event.message as { type?: unknown; text?: unknown } | undefined;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    type: event.type,
    userId: event.source?.userId,
    sourceType: event.source?.type,
    linkResult: text(link?.result),
    nonce: text(link?.nonce),
    postbackData: text(postback?.data),
    text: message?.type === 'text' ? text(message.text) : undefined,
  };
}

/**
 * One link-related event of one user, in that user's order (its FIFO group and its record's claim):
 * start linking from chat, complete a link from a nonce, or unlink. Rejections (unknown, expired or
 * reused nonces, another user's nonce, LINE's `failed`) are acknowledged and counted, never retried.
 */
export async function linkLineEvent(
  message: QueuedLineEvent,
  kind: LinkEventKind,
  deps: Deps,
  deadlineAt: number,
): Promise<LinkOutcome | Skipped> {
  const { event, destination } = message;
  const facts = linkFactsOf(message);
  const log = {
    channel: deps.channel.id,
    eventId: event.webhookEventId,
    type: event.type,
    user: maskUserId(facts.userId),
  };
  if (kind === 'link-failed' || facts.userId === undefined) {
    // LINE's `failed` carries no user and no reply token: nothing to apply, but worth a count and a line.
    const reason = kind === 'link-failed' ? 'failed-at-line' : 'no-user-id';
    countLinkRejected(deps.channel.id, reason);
    logger.warn('Account link event without a linkable user acknowledged', { ...log, reason });
    return { result: 'rejected', reason };
  }
  const key = { destination, userId: facts.userId };
  const lineFacts: LineEventFacts = {
    type: event.type,
    webhookEventId: event.webhookEventId,
    timestamp: event.timestamp,
    userId: facts.userId,
    lane: 'link',
  };
  const admitted = await claimUserRecord(key, lineFacts, deps.store, deps.channel.id);
  if ('skipped' in admitted) return admitted.skipped;
  const step = new LinkStep(key, lineFacts, event, admitted, deps, { deadlineAt }, log);
  switch (kind) {
    case 'start-link':
      return step.startLink();
    case 'unlink':
      return step.unlink();
    case 'link':
      return step.link(facts.nonce);
  }
}

/** The work for one claimed event; every path ends by completing the claim. */
class LinkStep {
  readonly #now = Date.now();

  constructor(
    private readonly key: LineUserKey,
    private readonly facts: LineEventFacts,
    private readonly event: LineWebhookEvent,
    private readonly admitted: { state: UserSyncState; takenOver?: TakenOverClaim },
    private readonly deps: Deps,
    private readonly call: { deadlineAt: number },
    private readonly log: Record<string, unknown>,
  ) {}

  async startLink(): Promise<LinkOutcome> {
    const { channel } = this.deps;
    const { nonces, settings } = this.deps.link;
    const { chat } = this.deps.channel;
    if (settings.linkPageUrl === undefined) {
      await this.#complete({});
      logger.warn('Link requested in chat but LINK_PAGE_URL is not set: nothing sent', this.log);
      return { result: 'rejected', reason: 'link-page-not-configured' };
    }
    try {
      const linkToken = await chat.issueLinkToken(this.key.userId);
      await nonces.saveLinkToken(linkToken, this.key, this.#now + LINK_TOKEN_VALIDITY_MS);
      await this.#answer([
        {
          type: 'template',
          altText: START_LINK_TEXT,
          template: {
            type: 'buttons',
            text: START_LINK_TEXT,
            actions: [{ type: 'uri', label: 'Link account', uri: linkPageUrl(settings.linkPageUrl, linkToken) }],
          },
        },
      ]);
    } catch (error) {
      // LINE refusing for good (the user blocked the account since, say) is an answer; throttling and 5xx are retried.
      if (
        !(error instanceof LineApiError) ||
        typeof error.status !== 'number' ||
        error.status < 400 ||
        error.status >= 500 ||
        error.status === 429
      )
        throw error;
      await this.#complete({ recordEvent: false });
      countLinkRejected(this.deps.channel.id, 'refused-by-line');
      logger.warn('LINE refused the link token or the answer; acknowledged, not retried', {
        ...this.log,
        operation: error.operation,
        status: error.status,
      });
      return { result: 'rejected', reason: 'refused-by-line' };
    }
    await this.#complete({});
    countForChannel('LinkStarted', channel.id);
    logger.info('Link token issued and the link page sent', this.log);
    return { result: 'link', action: 'link-started' };
  }

  async unlink(): Promise<LinkOutcome> {
    const { channel } = this.deps;
    const memberId = this.state.linkedCustomerId;
    if (memberId === undefined) {
      await this.#answerIfAsked(NOT_LINKED_TEXT);
      await this.#complete({});
      logger.info('Unlink requested for a user who is not linked', this.log);
      return { result: 'link', action: 'not-linked' };
    }
    // Opt the member out on this channel first: if the removal then fails, no campaign reaches them meanwhile.
    await this.deps.channel.customers.setSubscription(memberId, 'OPTOUT', this.call);
    await this.deps.channel.members.detach(memberId, this.key.userId, this.call);
    await this.#answerIfAsked(UNLINKED_TEXT);
    // The record keeps its subscription; with no customer, the next follow registers as for anyone new.
    await this.#complete({ customerId: null, linkedCustomerId: null, link: { status: 'unlinked', at: this.#now } });
    countForChannel('LinkRemoved', channel.id);
    logger.info('LINE identity removed from the member', { ...this.log, customerId: memberId });
    return { result: 'link', action: 'unlinked', customerId: memberId };
  }

  async link(nonce: string | undefined): Promise<LinkOutcome> {
    const { channel } = this.deps;
    const { nonces, settings } = this.deps.link;
    const { members } = this.deps.channel;
    if (nonce === undefined) return this.#reject('no-nonce');
    const consumed = await nonces.consume(nonce, this.facts.webhookEventId, this.#now);
    const verdict = nonceVerdict(
      consumed.record,
      { webhookEventId: this.facts.webhookEventId, userId: this.key.userId, destination: this.key.destination },
      this.#now,
    );
    // The store refused what the rule accepts only if the record changed in between: retry and look again.
    if (!consumed.consumed && (verdict === 'accept' || verdict === 'impersonation'))
      throw new Error('Nonce record changed while it was consumed; retrying');
    if (verdict !== 'accept') return this.#reject(verdict);
    const { customer } = consumed.record as NonceRecord;

    const memberId = await members.findMember(customer, this.call);
    if (memberId === undefined) return this.#failed('member-not-found');
    const subscription = subscriptionOnLink(
      this.state.subscription,
      (this.event.type as string) === BRIDGE_LINK_TYPE ? 'id-token' : 'accountLink',
    );
    const previous = this.state.customerId;
    const wasMember = previous !== undefined && previous === this.state.linkedCustomerId;
    // A previous member is always detached: two members are never merged or both kept.
    const handling = anonymousCustomerAction(previous, memberId, wasMember ? 'detach' : settings.anonymousCustomer);
    if (handling === 'detach') {
      await this.deps.channel.customers.setSubscription(previous as number, 'OPTOUT', this.call);
      await members.detach(previous as number, this.key.userId, this.call);
    }
    if (handling === 'merge-request') {
      const request = await members.requestMerge(previous as number, memberId, this.call);
      logger.info('Capillary merge request filed: anonymous customer into the member', {
        ...this.log,
        requestId: request.requestId,
        status: request.status,
      });
      if (request.status !== 'APPROVED') {
        // The LINE profile moves with the merge once Capillary approves it; until then it stays where it is.
        await this.#complete({
          linkedCustomerId: memberId,
          link: { status: 'merge-pending', detail: `request ${request.requestId}`, at: this.#now },
        });
        countForChannel('LinkMergePending', channel.id);
        return {
          result: 'link',
          action: 'merge-pending',
          customerId: memberId,
          detail: `request ${request.requestId}`,
        };
      }
    }
    const attached = await members.attach(memberId, this.key.userId, customer, this.call);
    if (!attached.attached) return this.#failed(attached.reason);
    await this.deps.channel.customers.setSubscription(memberId, subscription, this.call);
    await nonces.saveMemberLink(
      this.key.destination,
      [customer, { kind: 'customerId', value: memberId }],
      this.key.userId,
    );
    await this.#complete({
      customerId: memberId,
      linkedCustomerId: memberId,
      subscription,
      link: { status: 'linked', at: this.#now },
    });
    countForChannel('LinkApplied', channel.id);
    logger.info('LINE profile attached to the member', {
      ...this.log,
      customerId: memberId,
      previousCustomerId: previous,
      handling,
      subscription,
      via: customer.kind,
    });
    return { result: 'link', action: 'linked', customerId: memberId };
  }

  async #reject(reason: LinkRejection): Promise<LinkOutcome> {
    const { channel } = this.deps;
    // Not recorded as the lane's last event: a refused nonce must not make this user's own, older link stale.
    await this.#complete({ recordEvent: false });
    countLinkRejected(this.deps.channel.id, reason);
    // Another user's nonce: someone tried to link their LINE account to a member that is not theirs.
    if (reason === 'impersonation') countForChannel('LinkImpersonation', channel.id);
    logger.warn('Link rejected; acknowledged, not retried', { ...this.log, reason });
    return { result: 'rejected', reason };
  }

  /** Recorded in the user's link status with the reason; a new link attempt starts over. */
  async #failed(reason: string): Promise<LinkOutcome> {
    await this.#complete({ link: { status: 'failed', detail: reason, at: this.#now } });
    countLinkFailed(
      this.deps.channel.id,
      reason.startsWith('capillary-merged-into-customer-') ? 'capillary-merged-elsewhere' : reason,
    );
    logger.warn('Link failed; recorded in the user record', { ...this.log, reason });
    return { result: 'link', action: 'link-failed', detail: reason };
  }

  get state(): UserSyncState {
    return this.admitted.state;
  }

  #complete(change: AppliedChange): Promise<void> {
    return this.deps.store.complete(this.key, this.facts, { ...change, restoreClaim: this.admitted.takenOver });
  }

  /** Only a postback gets an answer; the link API's unlink has no chat to answer in. */
  async #answerIfAsked(text: string): Promise<void> {
    if (this.event.type === 'postback') await this.#answer([{ type: 'text', text }]);
  }

  /** By reply token while it is fresh, else (or when LINE refuses it) by push, at most once per event. */
  async #answer(messages: LineMessage[]): Promise<void> {
    const { settings } = this.deps.link;
    const { chat } = this.deps.channel;
    const replyToken = typeof this.event.replyToken === 'string' ? this.event.replyToken : undefined;
    const fresh = this.#now - this.event.timestamp < settings.replyTokenMaxAgeMs;
    if (replyToken !== undefined && fresh && (await chat.reply(replyToken, messages))) return;
    await chat.push(this.key.userId, messages, retryKeyOf(this.event.webhookEventId));
  }
}

/** LINE's X-Line-Retry-Key is a UUID; one per event, so the event's retries push at most once. */
function retryKeyOf(webhookEventId: string): string {
  const hex = createHash('sha256').update(webhookEventId).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
