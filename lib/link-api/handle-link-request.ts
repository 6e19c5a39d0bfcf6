import { createHash, timingSafeEqual } from 'node:crypto';

import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

import { DEFAULT_CHANNEL_ID, type ById } from '../config/channels';
import type { LinkApiConfig, LinkChannel } from '../config/link-api-config';
import { InvalidLinkFieldError } from '../domain/errors';
import { parseCustomerReference, type CustomerReference } from '../domain/link-rules';
import { isRecord } from '../is-record';
import type { LineWebhookEvent } from '../line/callback';
import { LineApiError } from '../line/errors';
import type { LineIdTokenVerifier } from '../line/id-token-verifier';
import { findHeader, rawBodyBytes } from '../line/signature';
import { countForChannel, logger, maskUserId, metrics, MetricUnit } from '../observability/telemetry';
import { EnqueueError } from '../queue/errors';
import { enqueueBatches, toBatches, toEntries } from '../queue/event-queue';
import { LinkNonceStore } from '../store/link-nonce-store';
import { encodedSizeLimit } from '../webhook/handle-webhook-request';
import { bridgeLinkEvent, bridgeUnlinkEvent } from './bridge-events';
import { LinkRequestError } from './errors';

export interface LinkApiDeps {
  config: LinkApiConfig;
  sqs: SQSClient;
  nonces: LinkNonceStore;
  idTokens: LineIdTokenVerifier;
  /** the channel's bot user id: its `destination` setting, or `GET /v2/bot/info` once per cold start */
  destinationOf(channel: LinkChannel): Promise<string>;
}

export const LINK_API_ROUTES = ['/line/link/nonce', '/line/link/id-token', '/line/link/unlink'] as const;
type LinkRoute = (typeof LINK_API_ROUTES)[number];

const USER_ID = /^U[0-9a-f]{32}$/;
const TOKEN_FIELD = /^[\x21-\x7e]{1,4096}$/;

const reply = (
  statusCode: number,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  body: JSON.stringify(body),
});

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Compared as SHA-256 digests (equal length) with timingSafeEqual, against every token of a rotation. */
export function isAuthorized(authorization: string | undefined, tokens: readonly string[]): boolean {
  const presented = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
  if (presented === undefined) return false;
  const wanted = digest(presented);
  // Every token is compared, so the time taken does not tell which one (if any) matched.
  return tokens.reduce((matched, token) => timingSafeEqual(wanted, digest(token)) || matched, false);
}

function tokenField(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || !TOKEN_FIELD.test(value))
    throw new LinkRequestError(400, `${field} must be a non-empty string of printable ASCII`, field);
  return value;
}

function customerField(body: Record<string, unknown>): CustomerReference {
  try {
    return parseCustomerReference(body.customer);
  } catch (error) {
    if (error instanceof InvalidLinkFieldError) throw new LinkRequestError(400, error.message, error.field);
    throw error;
  }
}

function channelOf(body: Record<string, unknown>, channels: ById<LinkChannel>): LinkChannel {
  const id = body.channel ?? DEFAULT_CHANNEL_ID;
  if (typeof id !== 'string') throw new LinkRequestError(400, 'channel must be a string', 'channel');
  const channel = channels.get(id);
  if (channel === undefined) throw new LinkRequestError(404, `unknown channel "${id.slice(0, 64)}"`, 'channel');
  return channel;
}

function parseBody(request: APIGatewayProxyEventV2, maxBytes: number): Record<string, unknown> {
  const isBase64 = request.isBase64Encoded === true;
  const tooLarge = new LinkRequestError(413, `body exceeds ${maxBytes} bytes`);
  if ((request.body?.length ?? 0) > encodedSizeLimit(maxBytes, isBase64)) throw tooLarge;
  const raw = rawBodyBytes(request.body, isBase64);
  if (raw.length > maxBytes) throw tooLarge;
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new LinkRequestError(400, 'body must be JSON', '$');
  }
  if (!isRecord(body)) throw new LinkRequestError(400, 'body must be a JSON object', '$');
  return body;
}

/**
 * The brand's backend → the bridge (docs/architecture.md#linking). Authenticates first and answers 4xx
 * naming the problem; every link and unlink becomes a queued event of that LINE user, so it is applied
 * in order with the user's follow/unfollow events. Nothing is logged that identifies the person.
 */
export async function handleLinkRequest(
  request: APIGatewayProxyEventV2,
  deps: LinkApiDeps,
): Promise<APIGatewayProxyStructuredResultV2> {
  const route = LINK_API_ROUTES.find((candidate) => candidate === request.rawPath);
  try {
    if (route === undefined || request.requestContext?.http?.method !== 'POST')
      throw new LinkRequestError(404, 'no such route');
    if (!isAuthorized(findHeader(request.headers, 'authorization'), deps.config.tokens)) {
      metrics.addMetric('LinkApiUnauthorized', MetricUnit.Count, 1);
      throw new LinkRequestError(401, 'missing or invalid bearer token');
    }
    const body = parseBody(request, deps.config.maxBodyBytes);
    const channel = channelOf(body, deps.config.channels);
    return await ROUTES[route](body, channel, deps);
  } catch (error) {
    if (error instanceof LinkRequestError) {
      if (error.status !== 401) metrics.addMetric('LinkApiRejected', MetricUnit.Count, 1);
      logger.info('Link API request refused', { route, status: error.status, field: error.field });
      return reply(
        error.status,
        { message: error.message, ...(error.field ? { field: error.field } : {}) },
        error.status === 401 ? { 'www-authenticate': 'Bearer' } : {},
      );
    }
    if (error instanceof LineApiError || error instanceof EnqueueError) {
      logger.error('Link API dependency failed; answering 503 so the caller retries', {
        route,
        error: error.name,
        message: error.message,
      });
      return reply(503, { message: 'temporarily unavailable; retry' }, { 'retry-after': '1' });
    }
    throw error;
  }
}

type RouteHandler = (
  body: Record<string, unknown>,
  channel: LinkChannel,
  deps: LinkApiDeps,
) => Promise<APIGatewayProxyStructuredResultV2>;

const ROUTES: Record<LinkRoute, RouteHandler> = {
  /** The brand's page has logged the user in: a nonce for LINE's account-link redirect. */
  '/line/link/nonce': async (body, channel, deps) => {
    const linkToken = tokenField(body, 'linkToken');
    const customer = customerField(body);
    const now = Date.now();
    const issued = await deps.nonces.findLinkToken(linkToken, now);
    const destination = await deps.destinationOf(channel);
    if (issued === undefined || issued.destination !== destination) {
      throw new LinkRequestError(
        400,
        'linkToken is unknown or expired: it must come from the link button the bridge sent (valid 10 minutes)',
        'linkToken',
      );
    }
    const nonce = LinkNonceStore.newNonce();
    const expiresAt = now + deps.config.nonceTtlMs;
    await deps.nonces.issueNonce(nonce, { userId: issued.userId, destination, customer, expiresAt });
    const redirectUrl = `${deps.config.accountLinkUrl}?${new URLSearchParams({ linkToken, nonce })}`;
    logger.info('Nonce issued for an account link', {
      channel: channel.id,
      user: maskUserId(issued.userId),
      customer: customer.kind,
    });
    countForChannel('LinkNonceIssued', channel.id);
    return reply(200, { nonce, redirectUrl, expiresAt: new Date(expiresAt).toISOString() });
  },

  /** LINE Login / LIFF: LINE vouches for the user; the link is queued as that user's event. */
  '/line/link/id-token': async (body, channel, deps) => {
    const idToken = tokenField(body, 'idToken');
    const customer = customerField(body);
    if (channel.lineLoginChannelId === undefined) {
      throw new LinkRequestError(
        400,
        `channel "${channel.id}" has no LINE Login channel id (LINE_LOGIN_CHANNEL_ID)`,
        'channel',
      );
    }
    const verdict = await deps.idTokens.verify(idToken, channel.lineLoginChannelId);
    if (!verdict.valid) {
      countForChannel('LinkIdTokenRejected', channel.id);
      throw new LinkRequestError(401, `idToken rejected: ${verdict.reason}`, 'idToken');
    }
    const now = Date.now();
    const destination = await deps.destinationOf(channel);
    const nonce = LinkNonceStore.newNonce();
    await deps.nonces.issueNonce(nonce, {
      userId: verdict.userId,
      destination,
      customer,
      expiresAt: now + deps.config.nonceTtlMs,
    });
    await enqueue(deps, channel, destination, bridgeLinkEvent(verdict.userId, nonce, now));
    logger.info('Link by ID token queued', {
      channel: channel.id,
      user: maskUserId(verdict.userId),
      customer: customer.kind,
    });
    return reply(202, { queued: 'link' });
  },

  /** `{userId}` or `{customer}` (as it was linked, or its customerId). */
  '/line/link/unlink': async (body, channel, deps) => {
    const destination = await deps.destinationOf(channel);
    let userId: string | undefined;
    if (body.userId !== undefined && body.customer !== undefined)
      throw new LinkRequestError(400, 'give userId or customer, not both', 'userId');
    if (body.userId !== undefined) {
      if (typeof body.userId !== 'string' || !USER_ID.test(body.userId))
        throw new LinkRequestError(400, 'userId must be a LINE user id (U + 32 hex)', 'userId');
      userId = body.userId;
    } else {
      const customer = customerField(body);
      userId = await deps.nonces.findLinkedUser(destination, customer);
      if (userId === undefined)
        throw new LinkRequestError(404, 'no LINE user of this channel is linked to this customer', 'customer');
    }
    await enqueue(deps, channel, destination, bridgeUnlinkEvent(userId, Date.now()));
    logger.info('Unlink queued', { channel: channel.id, user: maskUserId(userId) });
    return reply(202, { queued: 'unlink' });
  },
};

/** As the webhook queues LINE's events: the channel's id, its bot, the user's FIFO group. */
async function enqueue(
  deps: LinkApiDeps,
  channel: LinkChannel,
  destination: string,
  event: LineWebhookEvent,
): Promise<void> {
  await enqueueBatches(deps.sqs, deps.config.queueUrl, toBatches(toEntries(channel.id, destination, [event])));
  countForChannel('LinkEventQueued', channel.id);
}
