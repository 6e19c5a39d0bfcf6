import type { SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

import { CHANNEL_ID_PATTERN, DEFAULT_CAPILLARY_ORG_ID } from '../config/channels';
import { CAPILLARY_DELETE_TYPE } from '../domain/identity-rules';
import { isAuthorized } from '../http/bearer-auth';
import { errorResponse, type ErrorAnswers } from '../http/error-response';
import { BadRequestError, InvalidBearerTokenError, NotFoundError, ServiceUnavailableError } from '../http/errors';
import { findHeader } from '../http/headers';
import { jsonResponse } from '../http/json-response';
import { readBody } from '../http/request-body';
import { logger, metrics, MetricUnit } from '../observability/telemetry';
import { enqueueBatches, toBatches, toEntries } from '../queue/event-queue';
import type { IndexedUser } from '../store/ports';
import { notificationsOf } from './envelope';
import { identityEvent, identityEventId } from './identity-events';
import { interpret, type Interpretation } from './identity-notices';
import type { NotificationsDeps } from './notifications-deps';
import { interpretTier, isTierEvent, type TierInterpretation } from './tier-notices';

/** `POST /capillary/notifications` serves the `default` org; `/capillary/notifications/<org>` an org of CAPILLARY_ORGS. */
const ROUTE = /^\/capillary\/notifications(?:\/([^/]+))?\/?$/;

type Applied = Extract<Interpretation | TierInterpretation, { kind: 'identity' | 'tier' }>;

/** 4xx are counted (401 apart) and logged by status and field; what failed to queue is a 503 Capillary retries. */
const notificationAnswers: ErrorAnswers = {
  translate: (failure) => {
    logger.error('Capillary notification not durably queued; answering 503 so Capillary retries', {
      error: (failure as Error).name,
      message: (failure as Error).message,
    });
    metrics.addMetric('CapillaryNotificationFailed', MetricUnit.Count, 1);
    return new ServiceUnavailableError('not-queued', 'temporarily unavailable; retry', {
      retryAfterSeconds: 5,
      cause: failure,
    });
  },
  onRefused: (refusal) => {
    if (refusal.status !== 401) metrics.addMetric('CapillaryNotificationRejected', MetricUnit.Count, 1);
    logger.info('Capillary notification refused', {
      status: refusal.status,
      reason: refusal.reason,
      field: refusal.field,
    });
  },
};

/**
 * Capillary → the bridge (docs/deploy.md#capillary-event-notifications). Authenticates first, then reads every
 * notification of the body (a 400 names the field at fault, before anything is queued); each merge or PII deletion
 * becomes one identity event (a tier change one tier event) per LINE user whose record names the customer, queued
 * into that user's FIFO group so it is ordered with the user's own events. 200 only once all are queued; a notification applied before is 200
 * without queueing; unknown events are 200, counted.
 */
export async function handleNotificationRequest(
  request: APIGatewayProxyEventV2,
  deps: NotificationsDeps,
  now = Date.now(),
): Promise<APIGatewayProxyStructuredResultV2> {
  try {
    const org = orgOf(request);
    if (!isAuthorized(findHeader(request.headers, 'authorization'), deps.config.tokens)) {
      metrics.addMetric('CapillaryNotificationUnauthorized', MetricUnit.Count, 1);
      throw new InvalidBearerTokenError();
    }
    const interpreted = notificationsOf(jsonOf(readBody(request, deps.config.maxBodyBytes))).map((notification) => ({
      name: notification.name,
      createdAt: notification.createdAt,
      ...(isTierEvent(notification.name)
        ? interpretTier({ ...notification, name: notification.name }, deps.config.loyaltyProgramId)
        : interpret(notification)),
    }));
    const tally = { received: interpreted.length, applied: 0, duplicates: 0, ignored: 0, queued: 0 };
    for (const notification of interpreted) {
      if (notification.kind === 'ignored') {
        tally.ignored += 1;
        metrics.addMetric('CapillaryNotificationIgnored', MetricUnit.Count, 1);
        logger.info('Capillary notification acknowledged, not applied', {
          event: notification.name.slice(0, 64),
          reason: notification.reason,
        });
      } else if (await deps.applied.seen(org, notification.key)) {
        tally.duplicates += 1;
        metrics.addMetric('CapillaryNotificationDuplicate', MetricUnit.Count, 1);
      } else {
        tally.queued += await applyNotification(org, notification, notification.createdAt ?? now, deps);
        // Only after every user's event is queued: a failure before this leaves the notification to Capillary's retry.
        await deps.applied.remember(org, notification.key, now);
        tally.applied += 1;
      }
    }
    return jsonResponse(200, tally);
  } catch (error) {
    // Anything but an HttpError came from DynamoDB or SQS: not durably queued, so 503 (notificationAnswers).
    return errorResponse(error, notificationAnswers);
  }
}

function orgOf(request: APIGatewayProxyEventV2): string {
  const match = request.requestContext?.http?.method === 'POST' ? ROUTE.exec(request.rawPath ?? '') : null;
  if (match === null) throw new NotFoundError('no-such-route', 'no such route');
  const org = match[1] ?? DEFAULT_CAPILLARY_ORG_ID;
  if (!CHANNEL_ID_PATTERN.test(org)) throw new NotFoundError('no-such-org', 'no such org');
  return org;
}

function jsonOf(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new BadRequestError('body-not-json', 'body must be JSON', { field: '$', cause: error });
  }
}

/** One identity event per LINE user whose record names the customer; resolves once all are in the queue. */
async function applyNotification(
  org: string,
  applied: Applied,
  createdAt: number,
  deps: NotificationsDeps,
): Promise<number> {
  // Remembered for a merge into this customer whose notice comes later: no record names the survivor until then.
  if (applied.notice.type === CAPILLARY_DELETE_TYPE)
    await deps.applied.rememberDeletion(org, applied.notice.customerId, createdAt);
  const users = await deps.index.usersOf(org, applied.customerId);
  const entries = users.flatMap((user: IndexedUser) => {
    const eventId = identityEventId(applied.key, user.destination, user.userId);
    return toEntries(user.channel, user.destination, [identityEvent(user.userId, applied.notice, eventId, createdAt)]);
  });
  // Ids are per batch call: each entry its own.
  const numbered = entries.map(({ entry, bytes }, index) => ({
    bytes,
    entry: { ...entry, Id: String(index) } as SendMessageBatchRequestEntry,
  }));
  if (numbered.length > 0) await enqueueBatches(deps.sqs, deps.config.queueUrl, toBatches(numbered));
  metrics.addMetric('CapillaryNotificationApplied', MetricUnit.Count, 1);
  if (applied.kind === 'tier') metrics.addMetric('TierEventQueued', MetricUnit.Count, numbered.length);
  else metrics.addMetric('IdentityEventQueued', MetricUnit.Count, numbered.length);
  logger.info('Capillary notification queued for its LINE users', {
    notice: applied.notice.type,
    users: numbered.length,
  });
  return numbered.length;
}
