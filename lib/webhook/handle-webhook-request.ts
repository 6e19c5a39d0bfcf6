import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

import { CHANNEL_ID_PATTERN, DEFAULT_CHANNEL_ID } from '../config/channels';
import type { WebhookConfig } from '../config/webhook-config';
import { parseCallback } from '../line/callback';
import { InvalidCallbackError } from '../line/errors';
import { findHeader, isValidLineSignature, LINE_SIGNATURE_HEADER, rawBodyBytes } from '../line/signature';
import { countForChannel, debugEnabled, logger, metrics, MetricUnit } from '../observability/telemetry';
import { EnqueueError, EventNestingTooDeepError, EventTooLargeError } from '../queue/errors';
import { enqueueBatches, toBatches, toEntries } from '../queue/event-queue';

export interface WebhookDeps {
  config: WebhookConfig;
  sqs: SQSClient;
}

const reply = (statusCode: number, body: Record<string, unknown>): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** A body longer than this is over the byte limit before it is decoded or hashed. */
export function encodedSizeLimit(maxBytes: number, isBase64: boolean): number {
  return isBase64 ? Math.ceil(maxBytes / 3) * 4 : maxBytes; // every UTF-16 unit is at least one UTF-8 byte
}

/** The channel a request is for: the `{channel}` path segment, or `default` on `POST /line/webhook`. */
function requestedChannel(request: APIGatewayProxyEventV2): string {
  return request.pathParameters?.channel ?? DEFAULT_CHANNEL_ID;
}

/**
 * LINE → SQS: pick the channel from the path (an unknown one gets 404 before anything is hashed),
 * authenticate the exact bytes with that channel's secrets only, check the callback shape and the bot
 * it is for, enqueue every event, and only then answer 200. Anything that LINE should retry gets a
 * non-2xx; nothing here calls Capillary or LINE.
 */
export async function handleWebhookRequest(
  request: APIGatewayProxyEventV2,
  { config, sqs }: WebhookDeps,
): Promise<APIGatewayProxyStructuredResultV2> {
  const requested = requestedChannel(request);
  const channel = config.channels.get(requested);
  if (channel === undefined) {
    metrics.addMetric('ChannelUnknown', MetricUnit.Count, 1);
    // The path is anyone's to choose: log it only when it could be a channel id.
    logger.warn(
      'Rejected webhook for a channel this deployment does not serve (check LINE_CHANNELS and the webhook URL in the LINE console)',
      {
        channel: CHANNEL_ID_PATTERN.test(requested) ? requested : '(not a channel id)',
      },
    );
    return reply(404, { message: 'unknown channel' });
  }
  const log = { channel: channel.id };
  const isBase64 = request.isBase64Encoded === true;
  if ((request.body?.length ?? 0) > encodedSizeLimit(config.maxBodyBytes, isBase64)) {
    return reply(413, { message: `body exceeds ${config.maxBodyBytes} bytes` });
  }
  const raw = rawBodyBytes(request.body, isBase64);
  if (raw.length > config.maxBodyBytes) return reply(413, { message: `body exceeds ${config.maxBodyBytes} bytes` });

  const signature = findHeader(request.headers, LINE_SIGNATURE_HEADER);
  if (!isValidLineSignature(raw, channel.channelSecrets, signature)) {
    countForChannel('SignatureInvalid', channel.id);
    logger.warn(
      "Rejected webhook: x-line-signature missing or not valid for this channel's secret. If every request fails, the channel secret is wrong or was reissued.",
      {
        ...log,
        signaturePresent: signature !== undefined,
        bodyBytes: raw.length,
      },
    );
    return reply(401, {
      message: signature === undefined ? 'missing x-line-signature header' : 'invalid x-line-signature',
    });
  }

  let callback;
  try {
    callback = parseCallback(raw);
  } catch (error) {
    if (!(error instanceof InvalidCallbackError)) throw error;
    countForChannel('CallbackInvalid', channel.id);
    logger.warn('Rejected signed webhook with an invalid body', { ...log, reason: error.message });
    return reply(400, { message: error.message });
  }
  if (channel.destination !== undefined && callback.destination !== channel.destination) {
    countForChannel('DestinationUnexpected', channel.id);
    logger.warn(
      "Rejected webhook for another bot than this channel's destination (check the channel's destination setting)",
      log,
    );
    return reply(400, { message: 'unexpected destination' });
  }
  if (callback.events.length === 0) return reply(200, { enqueued: 0 }); // the console's Verify button

  try {
    await enqueueBatches(sqs, config.queueUrl, toBatches(toEntries(channel.id, callback.destination, callback.events)));
  } catch (error) {
    if (error instanceof EventTooLargeError) return reply(413, { message: error.message });
    if (error instanceof EventNestingTooDeepError) return reply(400, { message: error.message });
    if (!(error instanceof EnqueueError)) throw error;
    countForChannel('EnqueueFailed', channel.id, error.failedEventIds.length);
    logger.error('Could not enqueue every event; answering 500 so LINE redelivers', {
      ...log,
      failed: error.failedEventIds.length,
      reasons: [...new Set(error.failures.map((f) => f.reason))],
    });
    return reply(500, { message: 'events could not be queued; retry' });
  }
  if (debugEnabled())
    logger.debug('Enqueued webhook events', {
      ...log,
      enqueued: callback.events.length,
      types: callback.events.map((e) => e.type),
    });
  return reply(200, { enqueued: callback.events.length });
}
