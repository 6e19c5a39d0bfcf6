import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import type { NonceRecord } from '../../../lib/domain/link-rules';
import { LinkNonceStore } from '../../../lib/store/link-nonce-store';
import { DESTINATION, lineUserId } from '../../../local/line-event-factory';
import { createUsersTable } from '../../../local/rigs/worker-rig';

describe('LinkNonceStore on dynalite', () => {
  const dynamo = new DynamoDBClient({});
  let store: LinkNonceStore;
  beforeEach(async () => {
    store = new LinkNonceStore(dynamo, await createUsersTable(dynamo));
  });
  afterAll(() => dynamo.destroy());

  const record = (overrides: Partial<NonceRecord> = {}): NonceRecord => ({
    userId: lineUserId(),
    destination: DESTINATION,
    customer: { kind: 'email', value: 'a@example.com' },
    expiresAt: Date.now() + 60_000,
    ...overrides,
  });

  it('makes 256-bit URL-safe nonces, never the same twice', () => {
    const nonces = new Set(Array.from({ length: 1000 }, LinkNonceStore.newNonce));
    expect(nonces.size).toBe(1000);
    for (const nonce of nonces) expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('lets exactly one of many concurrent events consume a nonce; the winner may consume it again (its retry)', async () => {
    // Prepare
    const nonce = LinkNonceStore.newNonce();
    await store.issueNonce(nonce, record());
    // Act
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.consume(nonce, `E${i}`, Date.now())));
    // Assess
    const winners = results.flatMap((result, i) => (result.consumed ? [`E${i}`] : []));
    expect(winners).toHaveLength(1);
    expect(
      results.filter((result) => !result.consumed).every((result) => result.record?.consumedBy === winners[0]),
    ).toBe(true);
    expect((await store.consume(nonce, winners[0]!, Date.now())).consumed).toBe(true);
  });

  it('refuses an expired or unknown nonce, and never overwrites an issued one', async () => {
    const nonce = LinkNonceStore.newNonce();
    await store.issueNonce(nonce, record({ expiresAt: Date.now() - 1 }));
    expect(await store.consume(nonce, 'E1', Date.now())).toEqual({
      consumed: false,
      record: expect.objectContaining({ expiresAt: expect.any(Number) }),
    });
    expect(await store.consume(LinkNonceStore.newNonce(), 'E1', Date.now())).toEqual({
      consumed: false,
      record: undefined,
    });
    await expect(store.issueNonce(nonce, record())).rejects.toThrow(
      expect.objectContaining({ name: 'ConditionalCheckFailedException' }),
    );
  });

  it('finds the user of a link token until it expires, and the user and member linked by each reference', async () => {
    const userId = lineUserId();
    await store.saveLinkToken('token-1', { userId, destination: DESTINATION }, Date.now() + 1000);
    expect(await store.findLinkToken('token-1', Date.now())).toEqual({ userId, destination: DESTINATION });
    expect(await store.findLinkToken('token-1', Date.now() + 2000)).toBeUndefined();
    const keys = await store.saveMemberLink(
      DESTINATION,
      [
        { kind: 'email', value: 'A@Example.com' },
        { kind: 'customerId', value: 9 },
      ],
      { userId, memberId: 9 },
    );
    expect(keys).toHaveLength(2);
    expect(keys.every((key) => key.startsWith('linkref#'))).toBe(true);
    const linked = { userId, memberId: 9 };
    expect(await store.findLinkedUser(DESTINATION, { kind: 'email', value: 'a@example.com' })).toEqual(linked);
    expect(await store.findLinkedUser(DESTINATION, { kind: 'customerId', value: 9 })).toEqual(linked);
    expect(await store.findLinkedUser('other-bot', { kind: 'customerId', value: 9 })).toBeUndefined();
  });

  it('removes member index entries, with heldBy only those still pointing at that user', async () => {
    const [first, second] = [lineUserId(), lineUserId()];
    const [mine] = await store.saveMemberLink(DESTINATION, [{ kind: 'customerId', value: 1 }], {
      userId: first,
      memberId: 1,
    });
    const [theirs] = await store.saveMemberLink(DESTINATION, [{ kind: 'customerId', value: 2 }], {
      userId: second,
      memberId: 2,
    });
    await store.removeMemberLinks([mine!, theirs!], first);
    expect(await store.findLinkedUser(DESTINATION, { kind: 'customerId', value: 1 })).toBeUndefined();
    expect(await store.findLinkedUser(DESTINATION, { kind: 'customerId', value: 2 })).toEqual({
      userId: second,
      memberId: 2,
    });
    await store.removeMemberLinks([theirs!]);
    expect(await store.findLinkedUser(DESTINATION, { kind: 'customerId', value: 2 })).toBeUndefined();
  });
});
