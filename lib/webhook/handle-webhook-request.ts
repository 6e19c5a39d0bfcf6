import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { WebhookConfig } from '../config/config';
import { parseCallback } from '../line/callback';
import { InvalidCallbackError } from '../line/errors';
import { LINE_SIGNATURE_HEADER, findHeader, isValidLineSignature, rawBodyBytes } from '../line/signature';
import { enqueueBatches, toBatches, toEntries } from '../queue/event-queue';
import { EnqueueError, EventNestingTooDeepError, EventTooLargeError } from '../queue/errors';
import { MetricUnit, logger, metrics } from '../observability/telemetry';

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
function encodedSizeLimit(maxBytes: number, isBase64: boolean): number {
  return isBase64 ? Math.ceil(maxBytes / 3) * 4 : maxBytes; // every UTF-16 unit is at least one UTF-8 byte
}

/**
 * LINE → SQS: authenticate the exact bytes, check the callback shape, enqueue every event, and only
 * then answer 200. Anything that LINE should retry gets a non-2xx; nothing here calls Capillary or LINE.
 */
export async function handleWebhookRequest(request: APIGatewayProxyEventV2, { config, sqs }: WebhookDeps):
  Promise<APIGatewayProxyStructuredResultV2> {
  const isBase64 = request.isBase64Encoded === true;
  if ((request.body?.length ?? 0) > encodedSizeLimit(config.maxBodyBytes, isBase64)) {
    return reply(413, { message: `body exceeds ${config.maxBodyBytes} bytes` });
  }
  const raw = rawBodyBytes(request.body, isBase64);
  if (raw.length > config.maxBodyBytes) return reply(413, { message: `body exceeds ${config.maxBodyBytes} bytes` });

  const signature = findHeader(request.headers, LINE_SIGNATURE_HEADER);
  if (!isValidLineSignature(raw, config.channelSecrets, signature)) {
    metrics.addMetric('SignatureInvalid', MetricUnit.Count, 1);
    logger.warn('Rejected webhook: x-line-signature missing or not valid for LINE_CHANNEL_SECRET. If every request fails, the channel secret is wrong or was reissued.', {
      signaturePresent: signature !== undefined,
      bodyBytes: raw.length,
    });
    return reply(401, { message: signature === undefined ? 'missing x-line-signature header' : 'invalid x-line-signature' });
  }

  let callback;
  try {
    callback = parseCallback(raw);
  } catch (error) {
    if (!(error instanceof InvalidCallbackError)) throw error;
    metrics.addMetric('CallbackInvalid', MetricUnit.Count, 1);
    logger.warn('Rejected signed webhook with an invalid body', { reason: error.message });
    return reply(400, { message: error.message });
  }
  if (config.expectedDestinations.length > 0 && !config.expectedDestinations.includes(callback.destination)) {
    logger.warn('Rejected webhook for an unexpected destination (check LINE_EXPECTED_DESTINATIONS)');
    return reply(400, { message: 'unexpected destination' });
  }
  if (callback.events.length === 0) return reply(200, { enqueued: 0 }); // the console's Verify button

  try {
    await enqueueBatches(sqs, config.queueUrl, toBatches(toEntries(callback.destination, callback.events)));
  } catch (error) {
    if (error instanceof EventTooLargeError) return reply(413, { message: error.message });
    if (error instanceof EventNestingTooDeepError) return reply(400, { message: error.message });
    if (!(error instanceof EnqueueError)) throw error;
    metrics.addMetric('EnqueueFailed', MetricUnit.Count, error.failedEventIds.length);
    logger.error('Could not enqueue every event; answering 500 so LINE redelivers', { failed: error.failedEventIds.length, reasons: [...new Set(error.failures.map((f) => f.reason))] });
    return reply(500, { message: 'events could not be queued; retry' });
  }
  metrics.addMetric('EventsEnqueued', MetricUnit.Count, callback.events.length);
  logger.info('Enqueued webhook events', { enqueued: callback.events.length, types: callback.events.map((e) => e.type) });
  return reply(200, { enqueued: callback.events.length });
}
