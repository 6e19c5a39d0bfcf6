import type { APIGatewayProxyEventV2 } from 'aws-lambda';

import { onceAsync, ssmSecret } from '../lib/config/once-per-container';
import { readWebhookConfig } from '../lib/config/webhook-config';
import { eventOfKind } from '../lib/entry/event-shape';
import { withTelemetry } from '../lib/observability/telemetry';
import { createSqsClient } from '../lib/queue/sqs-client';
import { handleWebhookRequest, type WebhookDeps } from '../lib/webhook/handle-webhook-request';

/** Built on a container's first request: the configuration (secrets from SSM) and the SQS client. */
const deps = onceAsync(async (): Promise<WebhookDeps> => ({
  config: await readWebhookConfig(process.env, ssmSecret),
  sqs: createSqsClient(),
}));

export const handler = withTelemetry(async (event: APIGatewayProxyEventV2) =>
  handleWebhookRequest(eventOfKind('webhook', 'http', event), await deps()),
);
