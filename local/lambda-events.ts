import { randomUUID } from 'node:crypto';

import type { Message } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSEvent, SQSRecord } from 'aws-lambda';

import { LOCAL_REGION } from '../ops/serverless-resources';
import { LOCAL_WEBHOOK_PATH } from './sample-events';

/** HTTP API payload v2 carries text bodies as strings and everything else base64-encoded. */
function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  return /^(text\/|application\/(json|xml|javascript)|[^;]*\+json)/i.test(contentType);
}

export interface HttpRequestParts {
  method: string;
  path: string;
  rawQueryString?: string;
  /** header names as received; API Gateway lowercases them */
  headers: Record<string, string>;
  body: Buffer;
  sourceIp?: string;
  /** fixed values keep generated sample files stable */
  requestId?: string;
  receivedAt?: Date;
}

export interface MatchedRoute {
  routeKey: string;
  pathParameters?: Record<string, string>;
}

const CHANNEL_WEBHOOK_PATH = /^\/line\/webhook\/([^/]+)$/;

/** serverless.yml's webhook routes, `POST /line/webhook` and `POST /line/webhook/{channel}`, as HTTP API matches them. */
export function matchWebhookRoute(method: string, path: string): MatchedRoute | undefined {
  if (method !== 'POST') return undefined;
  if (path === LOCAL_WEBHOOK_PATH) return { routeKey: `POST ${LOCAL_WEBHOOK_PATH}` };
  const segment = CHANNEL_WEBHOOK_PATH.exec(path)?.[1];
  if (segment === undefined) return undefined;
  let channel: string;
  try {
    channel = decodeURIComponent(segment); // HTTP API hands path parameters decoded
  } catch {
    return undefined;
  }
  return { routeKey: `POST ${LOCAL_WEBHOOK_PATH}/{channel}`, pathParameters: { channel } };
}

/** The event API Gateway HTTP API hands a Lambda proxy integration, byte-exact as AWS builds it. */
export function toApiGatewayV2Event(request: HttpRequestParts): APIGatewayProxyEventV2 {
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const isBase64Encoded = !isTextContentType(headers['content-type']);
  const now = request.receivedAt ?? new Date();
  const route = matchWebhookRoute(request.method, request.path) ?? { routeKey: `${request.method} ${request.path}` };
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath: request.path,
    rawQueryString: request.rawQueryString ?? '',
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method: request.method,
        path: request.path,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: request.requestId ?? randomUUID(),
      routeKey: route.routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(route.pathParameters ? { pathParameters: route.pathParameters } : {}),
    body: request.body.length === 0 ? undefined : request.body.toString(isBase64Encoded ? 'base64' : 'utf8'),
    isBase64Encoded,
  };
}

/** Lambda's SQS event source record for a received message (FIFO attributes included). */
export function toSqsRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? randomUUID(),
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
      ...(attributes.MessageDeduplicationId ? { MessageDeduplicationId: attributes.MessageDeduplicationId } : {}),
      ...(attributes.SequenceNumber ? { SequenceNumber: attributes.SequenceNumber } : {}),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: LOCAL_REGION,
  };
}

export function toSqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}
