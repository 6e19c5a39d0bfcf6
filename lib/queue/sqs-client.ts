import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';

/**
 * The SDK's default is to send each request to the host named in its QueueUrl. The endpoint it
 * resolves (the regional one, or AWS_ENDPOINT_URL_SQS locally) is the same host in AWS, and is the
 * one that must win locally, where a server's queue URLs may name a host that does not resolve.
 */
export function createSqsClient(config: SQSClientConfig = {}): SQSClient {
  // cacheMiddleware: the middleware stack is resolved once, not on every send (a third of the webhook's CPU).
  return new SQSClient({ useQueueUrlAsEndpoint: false, cacheMiddleware: true, ...config });
}
