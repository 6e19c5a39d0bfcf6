/**
 * The LINE stand-in's friendships, per bot (channel). What the stand-in's owner sets (the initial followers,
 * `addFollowers`, `setBlocked`, `POST /__admin/followers`) holds for every bot; the follow and unfollow events LINE
 * delivered to a bot's webhook (locally: what the replay, the demo and the chaos run post as LINE) change that bot's
 * list only, as LINE's follower list follows what its users did. Events arrive out of order and are redelivered:
 * per user and bot the newest delivered event wins.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import { isRecord } from '../../lib/is-record';
import type { Clock } from './standin-kit';

const CURSOR_LIFETIME_MS = 24 * 3600 * 1000;

/** A follow or unfollow as a delivered webhook body carries it. */
interface DeliveredChange {
  type: 'follow' | 'unfollow';
  userId: string;
  timestamp: number;
}

/** The follow and unfollow events of a LINE callback body, and the bot it was sent for; nothing for anything else. */
function changesOf(body: Buffer | string): { destination: string; changes: DeliveredChange[] } | undefined {
  let callback: unknown;
  try {
    callback = JSON.parse(body.toString());
  } catch {
    return undefined;
  }
  if (!isRecord(callback) || typeof callback.destination !== 'string' || !Array.isArray(callback.events))
    return undefined;
  const changes = callback.events.flatMap((event): DeliveredChange[] => {
    if (!isRecord(event) || (event.type !== 'follow' && event.type !== 'unfollow')) return [];
    const userId = isRecord(event.source) ? event.source.userId : undefined;
    if (typeof userId !== 'string' || typeof event.timestamp !== 'number') return [];
    return [{ type: event.type, userId, timestamp: event.timestamp }];
  });
  return { destination: callback.destination, changes };
}

export class ChannelFollowers {
  readonly #shared: FollowerList;
  /** the bots a delivered event changed: their own lists (the others read the shared one) */
  #byBot = new Map<string, FollowerList>();
  /** `<bot> <userId>` → the timestamp of the newest follow/unfollow delivered */
  #newest = new Map<string, number>();

  constructor(initial: string[], clock: Clock) {
    this.#shared = new FollowerList(initial, clock);
  }

  /** the followers of every bot no delivered event changed */
  get shared(): FollowerList {
    return this.#shared;
  }

  of(botUserId: string): FollowerList {
    return this.#byBot.get(botUserId) ?? this.#shared;
  }

  /** Friends of every bot (a follow). */
  add(userIds: string[]): void {
    for (const list of [this.#shared, ...this.#byBot.values()]) list.add(userIds);
  }

  /** A friend of no bot (a block). */
  remove(userId: string): void {
    for (const list of [this.#shared, ...this.#byBot.values()]) list.remove(userId);
  }

  /** A webhook body LINE delivered: its follows and unfollows, newest per user, change its destination's list. */
  delivered(body: Buffer | string): void {
    const delivery = changesOf(body);
    if (delivery === undefined || delivery.changes.length === 0) return;
    const bot = delivery.destination;
    let list = this.#byBot.get(bot);
    if (list === undefined) {
      list = this.#shared.copy();
      this.#byBot.set(bot, list);
    }
    for (const { type, userId, timestamp } of delivery.changes) {
      const key = `${bot} ${userId}`;
      if (timestamp <= (this.#newest.get(key) ?? Number.NEGATIVE_INFINITY)) continue;
      this.#newest.set(key, timestamp);
      if (type === 'follow') list.add([userId]);
      else list.remove(userId);
    }
  }

  /** The bots with a list of their own (changed by delivered events): their current followers. */
  byBot(): Record<string, string[]> {
    return Object.fromEntries([...this.#byBot].map(([bot, list]) => [bot, list.ids()]));
  }

  reset(): void {
    this.#byBot.clear();
    this.#newest.clear();
    this.#shared.reset();
  }
}

/**
 * Followers in friend-add order. Each add gets a sequence number and a page's `next` names the last one
 * returned, so removals while someone pages never make them skip a follower. The token is signed (a
 * changed or made-up token answers 400, as LINE's does) and carries its issue time (it expires after 24 h).
 */
export class FollowerList {
  #bySeq = new Map<number, string>();
  #seqOf = new Map<string, number>();
  #nextSeq = 1;
  #everAdded = new Set<string>();
  #key = randomBytes(16);

  constructor(
    private readonly initial: string[],
    private readonly clock: Clock,
  ) {
    this.add(initial);
  }

  /** The same followers, sequence numbers and token key: a cursor issued by this list pages on in the copy. */
  copy(): FollowerList {
    const copy = new FollowerList([], this.clock);
    copy.#bySeq = new Map(this.#bySeq);
    copy.#seqOf = new Map(this.#seqOf);
    copy.#nextSeq = this.#nextSeq;
    copy.#everAdded = new Set(this.#everAdded);
    copy.#key = this.#key;
    return copy;
  }

  add(userIds: string[]): void {
    for (const userId of userIds) {
      if (this.#seqOf.has(userId)) continue;
      const seq = this.#nextSeq++;
      this.#bySeq.set(seq, userId);
      this.#seqOf.set(userId, seq);
      this.#everAdded.add(userId);
    }
  }

  remove(userId: string): void {
    const seq = this.#seqOf.get(userId);
    if (seq === undefined) return;
    this.#seqOf.delete(userId);
    this.#bySeq.delete(seq);
  }

  ids(): string[] {
    return [...this.#bySeq.values()];
  }

  get everAdded(): number {
    return this.#everAdded.size;
  }

  /** undefined: the token is invalid or expired */
  page(start: string | null, limit: number): { userIds: string[]; next?: string } | undefined {
    let after = 0;
    if (start !== null) {
      const cursor = this.#read(start);
      if (cursor === undefined || this.clock() - cursor.issuedAt >= CURSOR_LIFETIME_MS) return undefined;
      after = cursor.after;
    }
    const entries = [...this.#bySeq.entries()].filter(([seq]) => seq > after).slice(0, limit + 1);
    const page = entries.slice(0, limit);
    const last = page[page.length - 1];
    return {
      userIds: page.map(([, userId]) => userId),
      ...(entries.length > limit && last !== undefined ? { next: this.#token(last[0]) } : {}),
    };
  }

  reset(): void {
    this.#bySeq.clear();
    this.#seqOf.clear();
    this.#everAdded.clear();
    this.#nextSeq = 1;
    this.add(this.initial);
  }

  #token(after: number): string {
    const payload = Buffer.from(JSON.stringify({ after, issuedAt: this.clock() })).toString('base64url');
    return `${payload}.${createHmac('sha256', this.#key).update(payload).digest('base64url')}`;
  }

  #read(token: string): { after: number; issuedAt: number } | undefined {
    const [payload = '', signature = ''] = token.split('.');
    const expected = createHmac('sha256', this.#key).update(payload).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { after: number; issuedAt: number };
  }
}
