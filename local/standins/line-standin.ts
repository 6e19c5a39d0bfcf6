/**
 * A local LINE Messaging API with the calls the bridge makes (docs/line.md): get profile, with
 * `{"message":"Not found"}` for users who do not exist, are not friends, blocked the account or gave no
 * consent; follower ids with LINE's paging (at most 1,000 a page, an opaque `next` that expires after
 * 24 h → 400, 403 for an account that is not Verified/Premium); follower counts (insight); bot info.
 * Bearer-token auth and `x-line-request-id` on every answer. For linking (docs/line.md#account-link,
 * docs/line.md#id-token): link tokens, reply and push (recorded), ID token verification, and the
 * account-link dialog that sends the signed `accountLink` event to the connected webhook. Rich menus per user and
 * the loading animation: line-rich-menus.ts.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';

import { isRecord } from '../../lib/is-record';
import { LOCAL_CREDENTIALS } from '../local-credentials';
import { signLineBody } from '../sign-line-body';
import { LineChannelWebhooks, type LineChannelWebhook } from './line-channel-webhooks';
import { ChannelFollowers } from './line-followers';
import { RichMenuRegistry, type RichMenuState } from './line-rich-menus';
import {
  InvalidAdminRequestError,
  StandInSettings,
  startStandInServer,
  type BaseSettings,
  type Clock,
  type RouteHandler,
  type StandInServer,
} from './standin-kit';

export interface LineProfile {
  displayName: string;
  pictureUrl?: string;
  statusMessage?: string;
  language?: string;
}

/** 'generate': any well-formed user id has a profile; 'not-found': only the configured ones do. */
export type UnknownLineUsers = 'generate' | 'not-found';

export interface LineStandInOptions {
  /** 0 picks a free port */
  port?: number;
  /** the token of each channel served (one LINE API, several channels of one provider) */
  channelAccessToken?: string | readonly string[];
  latencyMs?: number;
  /** userId → profile */
  profiles?: Record<string, LineProfile>;
  unknownUsers?: UnknownLineUsers;
  /** initial followers, in friend-add order */
  followerIds?: string[];
  /** false: followers/ids answers 403 */
  verified?: boolean;
  botUserId?: string;
  /** per channel (by token): its bot, webhook endpoint and secret (npm run doctor checks them) */
  channels?: LineChannelWebhook[];
  clock?: Clock;
}

export interface LineSettings extends BaseSettings {
  /** false: followers/ids answers 403, as for an account that is neither Verified nor Premium */
  verified: boolean;
}

export interface LineStandInState extends RichMenuState {
  profiles: Record<string, LineProfile>;
  blockedUserIds: string[];
  unknownUsers: UnknownLineUsers;
  /** current followers, in friend-add order (of every bot no delivered event changed) */
  followerIds: string[];
  /** first-time adds ever (insight `followers`, which never decreases) */
  followersEverAdded: number;
  /** per bot that delivered follow/unfollow events changed: its current followers */
  followerIdsByBot: Record<string, string[]>;
  linkTokens: { linkToken: string; userId: string; issuedAt: number; used: boolean }[];
  /** every message sent by reply or push, in order */
  sent: SentMessages[];
}

export interface SentMessages {
  via: 'reply' | 'push';
  /** the push target; for a reply, the user the reply token was given to (when the stand-in knows it) */
  to?: string;
  replyToken?: string;
  messages: unknown[];
}

/** Where the account-link dialog delivers its event: the bridge's webhook, signed with the channel secret. */
export interface WebhookTarget {
  url: string;
  channelSecret: string;
  destination: string;
}

export interface AccountLinkResult {
  delivered: boolean;
  /** the webhook's HTTP status, or why no event was sent (LINE sends none for an expired or used link token) */
  status?: number;
  reason?: string;
  event?: Record<string, unknown>;
}

export interface LineStandIn extends StandInServer<LineSettings> {
  state(): LineStandInState;
  /** adds or replaces a profile, and unblocks the user */
  setProfile(userId: string, profile: LineProfile): void;
  /** a blocked user answers 404 and leaves the follower list, as after an unfollow; unblocking follows again */
  setBlocked(userId: string, blocked: boolean): void;
  /** makes these users followers (a follow) of every bot, in this order */
  addFollowers(userIds: string[]): void;
  /**
   * A webhook body LINE delivered to a bot (locally the replay, the demo and the chaos run play LINE): its follow and
   * unfollow events change that bot's follower list, the newest per user winning, as LINE's list follows its users.
   */
  recordDelivery(body: Buffer | string): void;
  /** the bot's own user id (bot info, and the `destination` of its webhooks) */
  botUserId: string;
  /** the webhook the account-link dialog calls */
  connectWebhook(target: WebhookTarget): void;
  /** a channel's bot, webhook endpoint (and whether it is active) and secret, as its console was set up (kept by reset) */
  setUpChannel(channel: LineChannelWebhook): void;
  /** what LINE does when the user opens the account-link URL: check the token, then send the event */
  completeAccountLink(linkToken: string, nonce: string, result?: 'ok' | 'failed'): Promise<AccountLinkResult>;
  /** an ID token as LINE Login or LIFF would hand the user's browser */
  /** `issuedAt` (epoch ms, default now) is the token's `iat`, as LINE sets it when the user logs in */
  issueIdToken(userId: string, clientId: string, options?: { expired?: boolean; issuedAt?: number }): string;
  /** the menus that exist, their aliases, each user's linked menu (line-rich-menus.ts) */
  richMenus: RichMenuRegistry;
}

/** `count` well-formed user ids derived from `seed`: the same seed gives the same ids. */
export function seededUserIds(count: number, seed: number | string): string[] {
  return Array.from(
    { length: count },
    (_, index) => `U${createHash('sha256').update(`${seed}:${index}`).digest('hex').slice(0, 32)}`,
  );
}

const USER_ID = /^U[0-9a-f]{32}$/;
const NOT_FOUND_REPLY = { status: 404, body: { message: 'Not found' } };
const UNAUTHORIZED_REPLY = {
  status: 401,
  body: { message: 'Authentication failed. Confirm that the access token in the authorization header is valid.' },
};
const RATE_LIMIT_MESSAGE = 'The API rate limit has been exceeded. Try again later.';
const NOT_VERIFIED_REPLY = { status: 403, body: { message: 'Access to this API is not available for your account' } };
const INVALID_START_REPLY = { status: 400, body: { message: 'The continuation token is invalid or has expired' } };
const FOLLOWER_PAGE_MAX = 1000;
const FOLLOWER_PAGE_DEFAULT = 300;
const DEFAULT_BOT_USER_ID = 'U1f2e3d4c5b6a79880011223344556677';
const INSIGHT_DATE = /^\d{8}$/;
/** LINE's link tokens last 10 minutes (docs/line.md#account-link). */
const LINK_TOKEN_TTL_MS = 10 * 60 * 1000;

/** LINE's error body; its 429 wording is documented, so injected 429s use it too. */
function lineErrorBody(status: number, message: string) {
  return { message: status === 429 ? RATE_LIMIT_MESSAGE : message };
}

/** Deterministic, and from a hash so the display name (which may reach logs) carries no part of the id. */
function generatedProfile(userId: string): LineProfile {
  return { displayName: `LINE user ${createHash('sha256').update(userId).digest('hex').slice(0, 4)}` };
}

function parseProfile(raw: Record<string, unknown>): LineProfile {
  if (typeof raw.displayName !== 'string') throw new InvalidAdminRequestError('a profile needs a displayName string');
  const optional = (['pictureUrl', 'statusMessage', 'language'] as const).flatMap((field) => {
    const value = raw[field];
    if (value === undefined) return [];
    if (typeof value !== 'string') throw new InvalidAdminRequestError(`${field} must be a string`);
    return [[field, value] as const];
  });
  return { displayName: raw.displayName, ...Object.fromEntries(optional) };
}

export async function startLineStandIn(options: LineStandInOptions = {}): Promise<LineStandIn> {
  const bearers = new Set(
    [options.channelAccessToken ?? LOCAL_CREDENTIALS.lineChannelAccessToken].flat().map((token) => `Bearer ${token}`),
  );
  const unknownUsers = options.unknownUsers ?? 'generate';
  const initialProfiles = structuredClone(options.profiles ?? {});
  let profiles = new Map(Object.entries(initialProfiles));
  const blocked = new Set<string>();

  const clock = options.clock ?? Date.now;
  const settings = new StandInSettings<LineSettings>({
    latencyMs: options.latencyMs ?? 0,
    maxTransitMs: null,
    verified: options.verified ?? true,
  });
  const followers = new ChannelFollowers(options.followerIds ?? [], clock);
  const botUserId = options.botUserId ?? DEFAULT_BOT_USER_ID;
  const channelWebhooks = new LineChannelWebhooks(options.channels ?? [], botUserId, clock);
  const botInfo = {
    userId: botUserId,
    basicId: '@000local',
    displayName: 'Local bot',
    chatMode: 'bot',
    markAsReadMode: 'auto',
  };

  const setBlocked = (userId: string, isBlocked: boolean): void => {
    if (isBlocked) {
      blocked.add(userId);
      followers.remove(userId);
    } else if (blocked.delete(userId)) {
      followers.add([userId]);
    }
  };
  const setProfile = (userId: string, profile: LineProfile): void => {
    profiles.set(userId, profile);
    setBlocked(userId, false);
  };

  const richMenus = new RichMenuRegistry((userId) => blocked.has(userId));

  const profileOf = (userId: string): LineProfile | undefined => {
    if (blocked.has(userId)) return undefined;
    const known = profiles.get(userId);
    if (known !== undefined || unknownUsers === 'not-found' || !USER_ID.test(userId)) return known;
    return generatedProfile(userId);
  };

  const authorized =
    (handle: RouteHandler): RouteHandler =>
    (request, params) =>
      request.headers.authorization !== undefined && bearers.has(request.headers.authorization)
        ? handle(request, params)
        : UNAUTHORIZED_REPLY;

  const getProfile: RouteHandler = (_request, [userId = '']) => {
    const profile = profileOf(userId);
    return profile === undefined ? NOT_FOUND_REPLY : { status: 200, body: { userId, ...profile } };
  };

  const getFollowerIds: RouteHandler = ({ query, headers }) => {
    if (!settings.current.verified) return NOT_VERIFIED_REPLY;
    const limit = Number(query.get('limit') ?? FOLLOWER_PAGE_DEFAULT);
    if (!Number.isInteger(limit) || limit < 1 || limit > FOLLOWER_PAGE_MAX) {
      return {
        status: 400,
        body: {
          message: 'The request body has 1 error(s)',
          details: [{ message: `must be between 1 and ${FOLLOWER_PAGE_MAX}`, property: 'limit' }],
        },
      };
    }
    const page = followers.of(channelWebhooks.botUserIdOf(headers.authorization)).page(query.get('start'), limit);
    return page === undefined ? INVALID_START_REPLY : { status: 200, body: page };
  };

  const getFollowerCounts: RouteHandler = ({ query, headers }) => {
    if (!INSIGHT_DATE.test(query.get('date') ?? '')) return { status: 400, body: { message: 'date must be yyyyMMdd' } };
    const list = followers.of(channelWebhooks.botUserIdOf(headers.authorization));
    return {
      status: 200,
      body: { status: 'ready', followers: list.everAdded, targetedReaches: list.ids().length, blocks: blocked.size },
    };
  };

  /** POST /__admin/followers: `{ userIds: [...] }` adds those, `{ count, seed }` adds that many generated ids. */
  const applyFollowersChange = (body: unknown): { followers: number; added: number } => {
    if (!isRecord(body))
      throw new InvalidAdminRequestError('body must be {"userIds": [...]} or {"count": N, "seed": S}');
    let userIds: string[];
    if (Array.isArray(body.userIds)) {
      if (!body.userIds.every((id) => typeof id === 'string' && USER_ID.test(id)))
        throw new InvalidAdminRequestError('userIds must be LINE user ids (U + 32 hex)');
      userIds = body.userIds as string[];
    } else if (Number.isInteger(body.count) && (body.count as number) >= 0 && (body.count as number) <= 5_000_000) {
      if (typeof body.seed !== 'number' && typeof body.seed !== 'string')
        throw new InvalidAdminRequestError('count needs a seed (number or string)');
      userIds = seededUserIds(body.count as number, body.seed);
    } else {
      throw new InvalidAdminRequestError('body must be {"userIds": [...]} or {"count": N (0 to 5000000), "seed": S}');
    }
    const shared = followers.shared;
    const before = shared.ids().length;
    followers.add(userIds.filter((userId) => !blocked.has(userId)));
    return { followers: shared.ids().length, added: shared.ids().length - before };
  };

  /** POST /__admin/profiles: `{ userId, displayName, … }` sets a profile; `{ userId, blocked }` blocks or unblocks. */
  const applyProfileChange = (body: unknown): LineStandInState => {
    if (!isRecord(body) || typeof body.userId !== 'string')
      throw new InvalidAdminRequestError('body needs a userId string');
    if (typeof body.blocked === 'boolean') setBlocked(body.userId, body.blocked);
    else setProfile(body.userId, parseProfile(body));
    return state();
  };

  const linkTokens = new Map<string, { userId: string; issuedAt: number; used: boolean }>();
  const idTokens = new Map<string, { userId: string; clientId: string; expired: boolean; issuedAt: number }>();
  const usedReplyTokens = new Set<string>();
  const retryKeys = new Set<string>();
  let sent: SentMessages[] = [];
  let webhook: WebhookTarget | undefined;

  const issueLinkToken: RouteHandler = (_request, [userId = '']) => {
    if (!USER_ID.test(userId) || blocked.has(userId))
      return { status: 400, body: { message: 'The user is not a friend of the bot' } };
    const linkToken = randomBytes(24).toString('base64url');
    linkTokens.set(linkToken, { userId, issuedAt: clock(), used: false });
    return { status: 200, body: { linkToken } };
  };

  const messagesOf = (body: unknown): unknown[] | undefined =>
    isRecord(body) && Array.isArray(body.messages) && body.messages.length > 0 ? body.messages : undefined;

  const reply: RouteHandler = ({ body }) => {
    const messages = messagesOf(body);
    const replyToken = isRecord(body) ? body.replyToken : undefined;
    if (typeof replyToken !== 'string' || messages === undefined)
      return { status: 400, body: { message: 'replyToken and messages are required' } };
    if (usedReplyTokens.has(replyToken)) return { status: 400, body: { message: 'Invalid reply token' } };
    usedReplyTokens.add(replyToken);
    sent.push({ via: 'reply', replyToken, messages });
    return { status: 200, body: {} };
  };

  const push: RouteHandler = ({ body, headers }) => {
    const messages = messagesOf(body);
    const to = isRecord(body) ? body.to : undefined;
    if (typeof to !== 'string' || messages === undefined)
      return { status: 400, body: { message: 'to and messages are required' } };
    const retryKey = headers['x-line-retry-key'];
    if (typeof retryKey === 'string') {
      if (retryKeys.has(retryKey)) return { status: 409, body: { message: 'The retry key is already accepted' } };
      retryKeys.add(retryKey);
    }
    sent.push({ via: 'push', to, messages });
    return { status: 200, body: {} };
  };

  const verifyIdToken: RouteHandler = ({ body }) => {
    const invalid = (description: string) => ({
      status: 400,
      body: { error: 'invalid_request', error_description: description },
    });
    if (!isRecord(body) || typeof body.id_token !== 'string' || typeof body.client_id !== 'string')
      return invalid('id_token and client_id are required.');
    const token = idTokens.get(body.id_token);
    if (token === undefined) return invalid('Invalid IdToken.');
    if (token.expired) return invalid('IdToken expired.');
    if (token.clientId !== body.client_id) return invalid('Invalid IdToken Audience.');
    const iat = Math.floor(token.issuedAt / 1000);
    return {
      status: 200,
      body: {
        iss: 'https://access.line.me',
        sub: token.userId,
        aud: token.clientId,
        exp: iat + 3600,
        iat,
        amr: ['pwd'],
      },
    };
  };

  const completeAccountLink = async (
    linkToken: string,
    nonce: string,
    result: 'ok' | 'failed' = 'ok',
  ): Promise<AccountLinkResult> => {
    const issued = linkTokens.get(linkToken);
    // LINE sends no event at all for an expired or already used link token.
    if (issued === undefined || issued.used || clock() - issued.issuedAt > LINK_TOKEN_TTL_MS)
      return { delivered: false, reason: 'link token unknown, used or expired' };
    if (webhook === undefined) return { delivered: false, reason: 'no webhook connected' };
    issued.used = true;
    const event: Record<string, unknown> = {
      type: 'accountLink',
      mode: 'active',
      timestamp: clock(),
      webhookEventId: `01${randomBytes(12).toString('hex').toUpperCase()}`.slice(0, 26),
      deliveryContext: { isRedelivery: false },
      link: { result, nonce },
      // A failed link carries no source and no reply token.
      ...(result === 'ok'
        ? { source: { type: 'user', userId: issued.userId }, replyToken: randomBytes(16).toString('hex') }
        : {}),
    };
    const body = JSON.stringify({ destination: webhook.destination, events: [event] });
    const response = await fetch(webhook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'x-line-signature': signLineBody(body, webhook.channelSecret),
      },
      body,
    });
    await response.arrayBuffer();
    return { delivered: response.ok, status: response.status, event };
  };

  /** `GET /dialog/bot/accountLink?linkToken=&nonce=[&result=failed]`: the page LINE shows after the brand's redirect. */
  const accountLinkDialog: RouteHandler = async ({ query }) => {
    const linkToken = query.get('linkToken') ?? '';
    const nonce = query.get('nonce') ?? '';
    if (nonce.length < 10 || nonce.length > 255)
      return { status: 400, body: { message: 'nonce must be 10 to 255 characters' } };
    return {
      status: 200,
      body: await completeAccountLink(linkToken, nonce, query.get('result') === 'failed' ? 'failed' : 'ok'),
    };
  };

  const issueIdToken = (
    userId: string,
    clientId: string,
    { expired = false, issuedAt = clock() }: { expired?: boolean; issuedAt?: number } = {},
  ): string => {
    const idToken = `local-id-token.${randomUUID()}`;
    idTokens.set(idToken, { userId, clientId, expired, issuedAt });
    return idToken;
  };

  const state = (): LineStandInState => ({
    profiles: structuredClone(Object.fromEntries(profiles)),
    blockedUserIds: [...blocked],
    unknownUsers,
    followerIds: followers.shared.ids(),
    followersEverAdded: followers.shared.everAdded,
    followerIdsByBot: followers.byBot(),
    linkTokens: [...linkTokens].map(([linkToken, issued]) => ({ linkToken, ...issued })),
    sent: structuredClone(sent),
    ...richMenus.state(),
  });

  const server = await startStandInServer({
    port: options.port ?? 0,
    requestIdHeader: 'x-line-request-id',
    settings,
    clock,
    errorBody: lineErrorBody,
    routes: [
      { method: 'GET', pattern: /^\/v2\/bot\/profile\/([^/]+)$/, handle: authorized(getProfile) },
      { method: 'GET', pattern: /^\/v2\/bot\/followers\/ids$/, handle: authorized(getFollowerIds) },
      { method: 'GET', pattern: /^\/v2\/bot\/insight\/followers$/, handle: authorized(getFollowerCounts) },
      {
        method: 'GET',
        pattern: /^\/v2\/bot\/info$/,
        handle: authorized(({ headers }) => ({
          status: 200,
          body: { ...botInfo, userId: channelWebhooks.botUserIdOf(headers.authorization) },
        })),
      },
      {
        method: 'GET',
        pattern: /^\/v2\/bot\/channel\/webhook\/endpoint$/,
        handle: authorized(channelWebhooks.getEndpoint),
      },
      {
        method: 'PUT',
        pattern: /^\/v2\/bot\/channel\/webhook\/endpoint$/,
        handle: authorized(channelWebhooks.putEndpoint),
      },
      {
        method: 'POST',
        pattern: /^\/v2\/bot\/channel\/webhook\/test$/,
        handle: authorized(channelWebhooks.testEndpoint),
      },
      { method: 'POST', pattern: /^\/v2\/bot\/user\/([^/]+)\/linkToken$/, handle: authorized(issueLinkToken) },
      { method: 'POST', pattern: /^\/v2\/bot\/message\/reply$/, handle: authorized(reply) },
      { method: 'POST', pattern: /^\/v2\/bot\/message\/push$/, handle: authorized(push) },
      { method: 'POST', pattern: /^\/oauth2\/v2\.1\/verify$/, handle: verifyIdToken },
      { method: 'GET', pattern: /^\/dialog\/bot\/accountLink$/, handle: accountLinkDialog },
      ...richMenus.routes(authorized),
    ],
    snapshot: state,
    resetState: () => {
      profiles = new Map(Object.entries(initialProfiles));
      blocked.clear();
      followers.reset();
      linkTokens.clear();
      idTokens.clear();
      usedReplyTokens.clear();
      retryKeys.clear();
      sent = [];
      richMenus.reset();
      channelWebhooks.reset();
    },
    adminRoutes: {
      'POST /__admin/profiles': applyProfileChange,
      'POST /__admin/followers': applyFollowersChange,
      ...richMenus.adminRoutes,
      'POST /__admin/channels': channelWebhooks.adminConfigure,
      /** `{ userId, clientId, expired? }` → `{ idToken }` */
      'POST /__admin/id-tokens': (body) => {
        if (!isRecord(body) || typeof body.userId !== 'string' || typeof body.clientId !== 'string')
          throw new InvalidAdminRequestError('body needs userId and clientId strings');
        return { idToken: issueIdToken(body.userId, body.clientId, { expired: body.expired === true }) };
      },
    },
  });

  return {
    ...server,
    state,
    setProfile,
    setBlocked,
    addFollowers: (userIds) => followers.add(userIds),
    recordDelivery: (body) => followers.delivered(body),
    botUserId,
    connectWebhook: (target) => {
      webhook = target;
    },
    setUpChannel: (channel) => channelWebhooks.setUp(channel),
    completeAccountLink,
    issueIdToken,
    richMenus,
  };
}
