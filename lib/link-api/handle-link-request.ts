import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

import { InvalidLinkFieldError } from '../domain/errors';
import { isAuthorized } from '../http/bearer-auth';
import { errorResponse, type ErrorAnswers } from '../http/error-response';
import { BadRequestError, InvalidBearerTokenError, NotFoundError, ServiceUnavailableError } from '../http/errors';
import { findHeader } from '../http/headers';
import { parseJsonObject } from '../http/json-object-body';
import { jsonResponse } from '../http/json-response';
import { readBody } from '../http/request-body';
import { LineApiError } from '../line/errors';
import { logger, metrics, MetricUnit } from '../observability/telemetry';
import { EnqueueError } from '../queue/errors';
import type { LinkApiDeps } from './link-api-deps';
import { LINK_ROUTES, type LinkRoute } from './link-routes';
import { channelField } from './request-fields';

export const LINK_API_ROUTES = Object.keys(LINK_ROUTES) as LinkRoute[];

/** Answers hold nonces and links: no cache may keep them. */
const NO_STORE = { 'cache-control': 'no-store' };

/**
 * Refusals are counted (but not 401s: they have their own count) and logged by status and field; a customer
 * reference the link rules reject is a 400 naming its field; LINE or SQS failing is a 503 the caller retries.
 */
const linkApiAnswers = (route: LinkRoute | undefined): ErrorAnswers => ({
  headers: NO_STORE,
  translate: (failure) => {
    if (failure instanceof InvalidLinkFieldError)
      return new BadRequestError('field-invalid', failure.message, { field: failure.field, cause: failure });
    if (!(failure instanceof LineApiError || failure instanceof EnqueueError)) return undefined;
    logger.error('Link API dependency failed; answering 503 so the caller retries', {
      route,
      error: failure.name,
      message: failure.message,
    });
    return new ServiceUnavailableError('dependency-failed', 'temporarily unavailable; retry', {
      retryAfterSeconds: 1,
      cause: failure,
    });
  },
  onRefused: (refusal) => {
    if (refusal.status !== 401) metrics.addMetric('LinkApiRejected', MetricUnit.Count, 1);
    logger.info('Link API request refused', { route, status: refusal.status, field: refusal.field });
  },
});

/**
 * The brand's backend → the bridge (docs/architecture.md#linking). Authenticates first and answers 4xx
 * naming the problem; every link and unlink becomes a queued event of that LINE user, so it is applied
 * in order with the user's follow/unfollow events. Nothing is logged that identifies the person.
 */
export async function handleLinkRequest(
  request: APIGatewayProxyEventV2,
  deps: LinkApiDeps,
  now = Date.now(),
): Promise<APIGatewayProxyStructuredResultV2> {
  const route = LINK_API_ROUTES.find((candidate) => candidate === request.rawPath);
  try {
    if (route === undefined || request.requestContext?.http?.method !== 'POST')
      throw new NotFoundError('no-such-route', 'no such route');
    if (!isAuthorized(findHeader(request.headers, 'authorization'), deps.config.tokens)) {
      metrics.addMetric('LinkApiUnauthorized', MetricUnit.Count, 1);
      throw new InvalidBearerTokenError();
    }
    const body = parseJsonObject(readBody(request, deps.config.maxBodyBytes));
    const channel = channelField(body, deps.config.channels);
    const { status, body: answer } = await LINK_ROUTES[route](body, channel, deps, now);
    return jsonResponse(status, answer, NO_STORE);
  } catch (error) {
    return errorResponse(error, linkApiAnswers(route));
  }
}
