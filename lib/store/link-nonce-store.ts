import { createHash, randomBytes } from 'node:crypto';

import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

import type { CustomerReference, NonceRecord } from '../domain/link-rules';
import type { LinkStateStore } from './ports';

/**
 * Link state beside the user records, in the same table under its own key prefixes (the link API's role
 * may touch only these, see serverless.yml): link tokens the worker issued (→ the LINE user), nonces the
 * link API made (→ customer reference + LINE user, single use), which LINE user a member is linked to
 * (for unlink by customer), and the ID tokens already used (each links once). Tokens and nonces are
 * stored only as hashes: the table never holds a value that would let someone complete a link.
 */
export const LINK_KEY_PREFIXES = ['linktoken#', 'nonce#', 'linkref#', 'idtoken#'] as const;

/** DynamoDB removes expired items itself (TTL on `expiresAt`); kept a day past their use for the audit. */
const RETENTION_MS = 24 * 3600 * 1000;
/** 256 bits from the CSPRNG; LINE asks for at least 128 (docs/line.md#account-link). */
const NONCE_BYTES = 32;

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });
export const hashOf = (secret: string): string => createHash('sha256').update(secret).digest('base64url');
const ttlOf = (expiresAt: number): AttributeValue => n(Math.floor((expiresAt + RETENTION_MS) / 1000));

export interface IssuedLinkToken {
  userId: string;
  destination: string;
}

/** A member index entry: the LINE user linked to the member, and the member (absent on entries from before it was kept). */
export interface MemberLink {
  userId: string;
  memberId?: number;
}

export type ConsumeResult =
  { consumed: true; record: NonceRecord } | { consumed: false; record: NonceRecord | undefined };

function toNonceRecord(item: Record<string, AttributeValue> | undefined): NonceRecord | undefined {
  if (!item?.userId?.S || !item.destination?.S || !item.customerKind?.S || !item.customerValue?.S) return undefined;
  const kind = item.customerKind.S as CustomerReference['kind'];
  const customer = (
    kind === 'customerId' ? { kind, value: Number(item.customerValue.S) } : { kind, value: item.customerValue.S }
  ) as CustomerReference;
  return {
    userId: item.userId.S,
    destination: item.destination.S,
    customer,
    expiresAt: Number(item.nonceExpiresAt?.N ?? 0),
    ...(item.consumedBy?.S ? { consumedBy: item.consumedBy.S } : {}),
  };
}

export class LinkNonceStore implements LinkStateStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** URL-safe Base64 of 256 random bits: 43 characters, inside LINE's 10–255. */
  static newNonce(): string {
    return randomBytes(NONCE_BYTES).toString('base64url');
  }

  async saveLinkToken(linkToken: string, issued: IssuedLinkToken, expiresAt: number): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: s(`linktoken#${hashOf(linkToken)}`),
          userId: s(issued.userId),
          destination: s(issued.destination),
          tokenExpiresAt: n(expiresAt),
          expiresAt: ttlOf(expiresAt),
        },
      }),
    );
  }

  /** The user a still-valid link token was issued for; undefined for tokens the bridge did not issue or that expired. */
  async findLinkToken(linkToken: string, now: number): Promise<IssuedLinkToken | undefined> {
    const item = await this.#get(`linktoken#${hashOf(linkToken)}`);
    if (!item?.userId?.S || !item.destination?.S || Number(item.tokenExpiresAt?.N ?? 0) <= now) return undefined;
    return { userId: item.userId.S, destination: item.destination.S };
  }

  /** Stores a fresh nonce; a collision (never expected with 256 bits) fails instead of overwriting. */
  async issueNonce(nonce: string, record: NonceRecord): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: s(`nonce#${hashOf(nonce)}`),
          userId: s(record.userId),
          destination: s(record.destination),
          customerKind: s(record.customer.kind),
          customerValue: s(String(record.customer.value)),
          nonceExpiresAt: n(record.expiresAt),
          expiresAt: ttlOf(record.expiresAt),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  /**
   * Single use as one conditional write: the first event to consume the nonce owns it, the same event
   * may consume it again (its own retry), every other event is refused. A refused consume returns the
   * record so that domain/link-rules `nonceVerdict` can say why.
   */
  async consume(nonce: string, webhookEventId: string, now: number): Promise<ConsumeResult> {
    const pk = `nonce#${hashOf(nonce)}`;
    try {
      const result = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: s(pk) },
          UpdateExpression: 'SET consumedBy = :eventId, consumedAt = :now',
          ConditionExpression:
            'attribute_exists(pk) AND (consumedBy = :eventId OR (attribute_not_exists(consumedBy) AND nonceExpiresAt > :now))',
          ExpressionAttributeValues: { ':eventId': s(webhookEventId), ':now': n(now) },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { consumed: true, record: toNonceRecord(result.Attributes) as NonceRecord };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { consumed: false, record: toNonceRecord(await this.#get(pk)) };
    }
  }

  /**
   * Points the member index at this user and member, by every reference the member was found with (for
   * unlink by customer); returns the keys, which the user's record keeps so they can be removed.
   */
  async saveMemberLink(
    destination: string,
    references: CustomerReference[],
    link: { userId: string; memberId: number },
  ): Promise<string[]> {
    const keys = [...new Set(references.map((reference) => memberLinkKey(destination, reference)))];
    for (const pk of keys) {
      const Item = { pk: s(pk), userId: s(link.userId), memberId: n(link.memberId) };
      await this.client.send(new PutItemCommand({ TableName: this.tableName, Item }));
    }
    return keys;
  }

  async findLinkedUser(destination: string, reference: CustomerReference): Promise<MemberLink | undefined> {
    const item = await this.#get(memberLinkKey(destination, reference));
    if (!item?.userId?.S) return undefined;
    return { userId: item.userId.S, ...(item.memberId?.N ? { memberId: Number(item.memberId.N) } : {}) };
  }

  /**
   * Removes member index entries (on re-link, unlink, forget): each becomes an empty item that TTL
   * deletes. With `heldBy`, only entries still pointing at that user (another may have linked the member since).
   */
  async removeMemberLinks(pks: readonly string[], heldBy?: string, now = Date.now()): Promise<void> {
    for (const pk of pks) {
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: { pk: s(pk), expiresAt: ttlOf(now) },
            ...(heldBy === undefined
              ? {}
              : { ConditionExpression: 'userId = :userId', ExpressionAttributeValues: { ':userId': s(heldBy) } }),
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
  }

  async #get(pk: string): Promise<Record<string, AttributeValue> | undefined> {
    const result = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { pk: s(pk) }, ConsistentRead: true }),
    );
    return result.Item;
  }
}

/** Hashed, so the key holds no mobile number or email. */
function memberLinkKey(destination: string, reference: CustomerReference): string {
  return `linkref#${destination}#${hashOf(`${reference.kind}:${String(reference.value).toLowerCase()}`)}`;
}
