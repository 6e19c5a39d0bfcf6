import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

import { ById, DEFAULT_CAPILLARY_ORG_ID, DEFAULT_CHANNEL_ID } from '../../lib/config/channels';
import { DEFAULTS } from '../../lib/config/defaults';
import type { LinkApiConfig } from '../../lib/config/link-api-config';
import { buildLinkApiDeps, type LinkApiDeps } from '../../lib/link-api/link-api-deps';
import { createSqsClient } from '../../lib/queue/sqs-client';
import { toApiGatewayV2Event } from '../lambda-events';
import { DESTINATION } from '../line-event-factory';
import { LOCAL_CREDENTIALS } from '../local-credentials';
import { LOCAL_LINE_LOGIN_CHANNEL_ID } from '../sample-events';
import { startLineStandIn, type LineStandIn } from '../standins/line-standin';
import { createFifoQueue, type TestFifoQueue } from './aws-kit';
import { createUsersTable } from './worker-rig';

export const LOCAL_LINK_API_TOKEN = LOCAL_CREDENTIALS.linkApiToken;

export function linkApiConfigFor(
  queueUrl: string,
  tableName: string,
  lineApiBaseUrl: string,
  overrides: Partial<LinkApiConfig> = {},
): LinkApiConfig {
  return {
    tokens: [LOCAL_LINK_API_TOKEN],
    queueUrl,
    tableName,
    channels: new ById([
      {
        id: DEFAULT_CHANNEL_ID,
        destination: DESTINATION,
        lineLoginChannelId: LOCAL_LINE_LOGIN_CHANNEL_ID,
        channelAccessToken: LOCAL_CREDENTIALS.lineChannelAccessToken,
        capillaryOrg: DEFAULT_CAPILLARY_ORG_ID,
      },
    ]),
    lineApiBaseUrl,
    lineApiTimeoutMs: 1000,
    accountLinkUrl: DEFAULTS.LINE_ACCOUNT_LINK_URL,
    nonceTtlMs: DEFAULTS.LINK_NONCE_TTL_SECONDS * 1000,
    idTokenMaxAgeMs: DEFAULTS.LINK_ID_TOKEN_MAX_AGE_SECONDS * 1000,
    maxBodyBytes: DEFAULTS.LINK_API_MAX_BODY_BYTES,
    ...overrides,
  };
}

/** A request to the link API as API Gateway hands it over; `token: null` sends no Authorization header. */
export function linkApiRequest(
  path: string,
  body: unknown,
  {
    token = LOCAL_LINK_API_TOKEN as string | null,
    method = 'POST',
    raw,
  }: { token?: string | null; method?: string; raw?: Buffer } = {},
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return toApiGatewayV2Event({
    method,
    path,
    headers,
    body: raw ?? Buffer.from(body === undefined ? '' : JSON.stringify(body)),
  });
}

export interface LinkApiHarness {
  deps: LinkApiDeps;
  line: LineStandIn;
  sqs: SQSClient;
  dynamo: DynamoDBClient;
  queue: TestFifoQueue;
  tableName: string;
  close(): Promise<void>;
}

/** The link API's real dependencies on the local servers (dynalite, fauxqs) and the LINE stand-in. */
export async function startLinkApiHarness(overrides: Partial<LinkApiConfig> = {}): Promise<LinkApiHarness> {
  const line = await startLineStandIn();
  const sqs = createSqsClient();
  const dynamo = new DynamoDBClient({});
  const queue = await createFifoQueue(sqs);
  const tableName = await createUsersTable(dynamo);
  const deps = buildLinkApiDeps(linkApiConfigFor(queue.queueUrl, tableName, line.url, overrides), dynamo, sqs);
  return {
    deps,
    line,
    sqs,
    dynamo,
    queue,
    tableName,
    async close() {
      sqs.destroy();
      dynamo.destroy();
      await line.close();
    },
  };
}
