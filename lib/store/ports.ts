/**
 * The stores as the worker sees them: what it asks of the user records and of the link state, whatever
 * keeps them. The DynamoDB classes implement these; the chaos rig wraps one, and tests may use a stand-in.
 */
import type { CustomerReference, NonceRecord } from '../domain/link-rules';
import type { LineEventFacts, UserSyncState } from '../domain/sync-rules';
import type { ConsumeResult, IssuedLinkToken, MemberLink } from './link-nonce-store';
import type { AppliedChange, ClaimResult, LineUserKey } from './user-sync-store';

export type { AppliedChange, ClaimResult, ConsumeResult, IssuedLinkToken, LineUserKey, MemberLink };
export type { TakenOverClaim } from './user-sync-store';

/** One record per LINE user and bot: claimed before any side effect, completed after them (docs/architecture.md). */
export interface UserRecordStore {
  /** Granted when domain/sync-rules `admission` says apply; a refusal carries the record that refused it. */
  claim(key: LineUserKey, event: LineEventFacts, now?: number): Promise<ClaimResult>;
  /** Records what the claimed event applied and releases the claim; throws ClaimLostError if the claim is gone. */
  complete(key: LineUserKey, event: LineEventFacts, change: AppliedChange, now?: number): Promise<void>;
  read(key: LineUserKey): Promise<UserSyncState | undefined>;
  /**
   * Drops this event's in-flight mark, and its claim if it is still there, on a record it does not hold this attempt
   * (a sibling's): what its release does on the records it holds. False when the mark there is not this event's.
   */
  forgetInFlight(key: LineUserKey, event: LineEventFacts): Promise<boolean>;
}

/** Link tokens the worker issued, nonces the link API made (single use), and which LINE user holds a member. */
export interface LinkStateStore {
  saveLinkToken(linkToken: string, issued: IssuedLinkToken, expiresAt: number): Promise<void>;
  findLinkToken(linkToken: string, now: number): Promise<IssuedLinkToken | undefined>;
  issueNonce(nonce: string, record: NonceRecord): Promise<void>;
  /** The first event to consume a nonce owns it; its own retry may consume it again; any other is refused. */
  consume(nonce: string, webhookEventId: string, now: number): Promise<ConsumeResult>;
  /** Points the member index at the user; returns the keys written (kept on the user's record). */
  saveMemberLink(
    destination: string,
    references: CustomerReference[],
    link: { userId: string; memberId: number },
  ): Promise<string[]>;
  findLinkedUser(destination: string, reference: CustomerReference): Promise<MemberLink | undefined>;
  /** With `heldBy`, only the entries still pointing at that user. */
  removeMemberLinks(pks: readonly string[], heldBy?: string): Promise<void>;
}

export type { CustomerIndex, IndexedUser } from './customer-index';
export type { DeletionLog, NotificationLog } from './notification-log';
