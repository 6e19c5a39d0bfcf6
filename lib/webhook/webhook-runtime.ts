import { createSqsClient } from '../queue/sqs-client';
import { readWebhookConfig } from '../config';
import { onceAsync, ssmSecret } from '../runtime-cache';
import type { WebhookDeps } from './handle-webhook-request';

export const webhookRuntime = onceAsync(async (): Promise<WebhookDeps> => ({
  config: await readWebhookConfig(process.env, ssmSecret),
  sqs: createSqsClient(),
}));
