import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { withTelemetry } from '../lib/observability/telemetry';
import { handleWebhookRequest } from '../lib/webhook/handle-webhook-request';
import { webhookRuntime } from '../lib/webhook/webhook-runtime';

export const handler = withTelemetry(async (event: APIGatewayProxyEventV2, _context: Context) =>
  handleWebhookRequest(event, await webhookRuntime()));
