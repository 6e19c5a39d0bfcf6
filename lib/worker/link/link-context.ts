import type { Logger } from '@aws-lambda-powertools/logger';

import type { CustomerDirectory } from '../../capillary/customer-directory';
import type { MemberLinker } from '../../capillary/member-linker';
import type { WorkerLinkSettings } from '../../config/link-config';
import type { EventFacts } from '../../domain/event-route';
import type { LinkRejection } from '../../domain/link-rules';
import type { LineChatClient } from '../../line/link-token-client';
import type { LineProfileClient } from '../../line/profile-client';
import type { LinkStateStore, UserRecordStore } from '../../store/ports';
import type { ClaimedEvent, Skipped } from '../claim-user-record';
import type { LoyaltyChannel } from '../loyalty/loyalty-channel';

/** A link step's channel: its account in Capillary (customers, members) and its LINE token (chat). */
export interface LinkChannel extends LoyaltyChannel {
  id: string;
  customers: CustomerDirectory;
  members: MemberLinker;
  /** link tokens, replies and pushes with this channel's token */
  chat: LineChatClient;
  /** the display name for a customer of the user's own again (after an unlink) */
  profiles: LineProfileClient;
}

/** A channel of the user's Capillary org other than the event's: channels of one provider share the user id. */
export interface SiblingChannel extends LinkChannel {
  /** the bot's user id: the first half of its user records' keys and of its FIFO groups */
  destination(): Promise<string>;
}

/** What a link reaches beyond its own channel: the org's other channels and their users' records. */
export interface SiblingAccess {
  channels: readonly SiblingChannel[];
  records: UserRecordStore;
}

/**
 * One link event of one user, in that user's order (its FIFO group and its record's claim), with what
 * its step works with. Every step ends by completing the claim.
 */
export interface LinkContext {
  claimed: ClaimedEvent;
  facts: EventFacts;
  channel: LinkChannel;
  nonces: LinkStateStore;
  siblings: SiblingAccess;
  settings: WorkerLinkSettings;
  /** the event's log context (channel, event, masked user) */
  log: Logger;
  call: { deadlineAt: number };
  /** when the step started (after the claim): link times and token expiries count from here */
  now: number;
}

/**
 * Rejections (unknown, expired or reused nonces, another user's nonce, LINE's `failed`) are acknowledged, never retried;
 * skipped: a newer link-lane event of the provider's other channel overtook it.
 */
export type LinkOutcome =
  | Skipped
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
