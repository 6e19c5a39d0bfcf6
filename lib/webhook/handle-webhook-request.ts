import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

import { CHANNEL_ID_PATTERN, DEFAULT_CHANNEL_ID } from '../config/channels';
import type { WebhookChannel, WebhookConfig } from '../config/webhook-config';
import { errorResponse } from '../http/error-response';
import { BadRequestError, NotFoundError, UnauthorizedError } from '../http/errors';
import { findHeader } from '../http/headers';
import { jsonResponse } from '../http/json-response';
import { readBody } from '../http/request-body';
import { parseCallback, type LineCallback } from '../line/callback';
import { isValidLineSignature, LINE_SIGNATURE_HEADER } from '../line/signature';
import { countForChannel, debugEnabled, logger, metrics, MetricUnit } from '../observability/telemetry';
import { enqueueEvents } from '../queue/event-queue';
import { eventsByQueue } from './events-by-queue';
import { webhookHttpError } from './webhook-failures';

export interface WebhookDeps {
  config: WebhookConfig;
  sqs: SQSClient;
}

/** The channel a request is for: the `{channel}` path segment, or `default` on `POST /line/webhook`. */
function requestedChannel(request: APIGatewayProxyEventV2): string {
  return request.pathParameters?.channel ?? DEFAULT_CHANNEL_ID;
}

/** An unknown channel gets 404 before anything is hashed. */
function servedChannel(requested: string, config: WebhookConfig): WebhookChannel {
  const channel = config.channels.get(requested);
  if (channel !== undefined) return channel;
  metrics.addMetric('ChannelUnknown', MetricUnit.Count, 1);
  // The path is anyone's to choose: log it only when it could be a channel id.
  logger.warn(
    'Rejected webhook for a channel this deployment does not serve (check LINE_CHANNELS and the webhook URL in the LINE console)',
    { channel: CHANNEL_ID_PATTERN.test(requested) ? requested : '(not a channel id)' },
  );
  throw new NotFoundError('unknown-channel', 'unknown channel');
}

/** The callback in the body: its exact bytes authenticated with the channel's secrets only, and for its bot. */
function signedCallback(request: APIGatewayProxyEventV2, channel: WebhookChannel, maxBodyBytes: number): LineCallback {
  const log = { channel: channel.id };
  const raw = readBody(request, maxBodyBytes);
  const signature = findHeader(request.headers, LINE_SIGNATURE_HEADER);
  if (!isValidLineSignature(raw, channel.channelSecrets, signature)) {
    countForChannel('SignatureInvalid', channel.id);
    logger.warn(
      "Rejected webhook: x-line-signature missing or not valid for this channel's secret. " +
        'If every request fails, the channel secret is wrong or was reissued.',
      { ...log, signaturePresent: signature !== undefined, bodyBytes: raw.length },
    );
    throw signature === undefined
      ? new UnauthorizedError('signature-missing', 'missing x-line-signature header')
      : new UnauthorizedError('signature-invalid', 'invalid x-line-signature');
  }
  const callback = parseCallback(raw);
  if (channel.destination !== undefined && callback.destination !== channel.destination) {
    countForChannel('DestinationUnexpected', channel.id);
    logger.warn(
      "Rejected webhook for another bot than this channel's destination (check the channel's destination setting)",
      log,
    );
    throw new BadRequestError('destination-unexpected', 'unexpected destination');
  }
  return callback;
}

/**
 * LINE → SQS: pick the channel from the path, authenticate the body, check the callback shape and the bot
 * it is for, enqueue every event (engagement events on their own queue), and only then answer 200. Anything that
 * LINE should retry gets a non-2xx; nothing here calls Capillary or LINE.
 */
export async function handleWebhookRequest(
  request: APIGatewayProxyEventV2,
  { config, sqs }: WebhookDeps,
): Promise<APIGatewayProxyStructuredResultV2> {
  const requested = requestedChannel(request);
  try {
    const channel = servedChannel(requested, config);
    const callback = signedCallback(request, channel, config.maxBodyBytes);
    if (callback.events.length === 0) return jsonResponse(200, { enqueued: 0 }); // the console's Verify button
    // Every share before the 200: an event a queue did not take is redelivered by LINE (the other deduplicates it).
    const sending = eventsByQueue(channel.id, callback.events, config).map(({ queueUrl, events }) =>
      enqueueEvents(sqs, queueUrl, channel.id, callback.destination, events),
    );
    // One queue (every request of a channel without engagement rules) is awaited as it is: Promise.all adds a layer.
    await (sending.length === 1 ? sending[0] : Promise.all(sending));
    if (debugEnabled())
      logger.debug('Enqueued webhook events', {
        channel: channel.id,
        enqueued: callback.events.length,
        types: callback.events.map((e) => e.type),
      });
    return jsonResponse(200, { enqueued: callback.events.length });
  } catch (error) {
    // Only steps after servedChannel throw what webhookHttpError translates: `requested` is then the channel's id.
    return errorResponse(error, { translate: (failure) => webhookHttpError(failure, requested) });
  }
}
