import type { LinkChannel } from '../config/link-api-config';
import { parseCustomerReference } from '../domain/link-rules';
import { BadRequestError, ConflictError, NotFoundError, UnauthorizedError } from '../http/errors';
import type { LineWebhookEvent } from '../line/callback';
import { countForChannel, logger, maskUserId } from '../observability/telemetry';
import { enqueueBatches, toBatches, toEntries } from '../queue/event-queue';
import { LinkNonceStore } from '../store/link-nonce-store';
import { bridgeLinkEvent, bridgeUnlinkEvent } from './bridge-events';
import type { LinkApiDeps } from './link-api-deps';
import { tokenField, userIdField } from './request-fields';

/** What a route answers when it succeeds; refusals are thrown as HttpErrors. */
export interface LinkRouteAnswer {
  status: 200 | 202;
  body: Record<string, unknown>;
}

type RouteHandler = (
  body: Record<string, unknown>,
  channel: LinkChannel,
  deps: LinkApiDeps,
) => Promise<LinkRouteAnswer>;

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

export const LINK_ROUTES = {
  /** The brand's page has logged the user in: a nonce for LINE's account-link redirect. */
  '/line/link/nonce': async (body, channel, deps) => {
    const linkToken = tokenField(body, 'linkToken');
    const customer = parseCustomerReference(body.customer);
    const now = Date.now();
    const issued = await deps.nonces.findLinkToken(linkToken, now);
    const destination = await deps.destinationOf(channel);
    if (issued === undefined || issued.destination !== destination) {
      throw new BadRequestError(
        'link-token-unknown',
        'linkToken is unknown or expired: it must come from the link button the bridge sent (valid 10 minutes)',
        { field: 'linkToken' },
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
    return { status: 200, body: { nonce, redirectUrl, expiresAt: new Date(expiresAt).toISOString() } };
  },

  /** LINE Login / LIFF: LINE vouches for the user; the link is queued as that user's event. */
  '/line/link/id-token': async (body, channel, deps) => {
    const idToken = tokenField(body, 'idToken');
    const customer = parseCustomerReference(body.customer);
    if (channel.lineLoginChannelId === undefined) {
      throw new BadRequestError(
        'line-login-channel-missing',
        `channel "${channel.id}" has no LINE Login channel id (LINE_LOGIN_CHANNEL_ID)`,
        { field: 'channel' },
      );
    }
    const verdict = await deps.idTokens.verify(idToken, channel.lineLoginChannelId);
    if (!verdict.valid) {
      countForChannel('LinkIdTokenRejected', channel.id);
      throw new UnauthorizedError('id-token-rejected', `idToken rejected: ${verdict.reason}`, {
        field: 'idToken',
        challenge: 'Bearer',
      });
    }
    const now = Date.now();
    if (now - verdict.issuedAt > deps.config.idTokenMaxAgeMs) {
      countForChannel('LinkIdTokenRejected', channel.id);
      throw new UnauthorizedError('id-token-too-old', 'idToken rejected: issued too long ago; log in again', {
        field: 'idToken',
        challenge: 'Bearer',
      });
    }
    const destination = await deps.destinationOf(channel);
    // Remembered before anything is queued: a replay, even of a request that failed after this, links nothing.
    if (!(await deps.usedIdTokens.useOnce(idToken, verdict.expiresAt))) {
      countForChannel('LinkIdTokenReplayed', channel.id);
      throw new ConflictError('id-token-used', 'idToken was used already: each ID token links once', {
        field: 'idToken',
      });
    }
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
    return { status: 202, body: { queued: 'link' } };
  },

  /** `{userId}` or `{customer}` (as it was linked, or its customerId). */
  '/line/link/unlink': async (body, channel, deps) => {
    const destination = await deps.destinationOf(channel);
    if (body.userId !== undefined && body.customer !== undefined)
      throw new BadRequestError('field-conflict', 'give userId or customer, not both', { field: 'userId' });
    const linked =
      body.userId !== undefined
        ? { userId: userIdField(body) }
        : await deps.nonces.findLinkedUser(destination, parseCustomerReference(body.customer));
    if (linked === undefined)
      throw new NotFoundError('not-linked', 'no LINE user of this channel is linked to this customer', {
        field: 'customer',
      });
    const { userId } = linked;
    // By customer: the worker unlinks only if the user is still linked to this member when it applies.
    const memberId = 'memberId' in linked ? linked.memberId : undefined;
    await enqueue(deps, channel, destination, bridgeUnlinkEvent(userId, Date.now(), memberId));
    logger.info('Unlink queued', { channel: channel.id, user: maskUserId(userId) });
    return { status: 202, body: { queued: 'unlink' } };
  },
} satisfies Record<string, RouteHandler>;

export type LinkRoute = keyof typeof LINK_ROUTES;
