import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

import type { LinkApiConfig, LinkChannel } from '../config/link-api-config';
import { botDestination } from '../line/bot-destination';
import { LineIdTokenVerifier } from '../line/id-token-verifier';
import { createSqsClient } from '../queue/sqs-client';
import { IdTokenGuard } from '../store/id-token-guard';
import { LinkNonceStore } from '../store/link-nonce-store';

export interface LinkApiDeps {
  config: LinkApiConfig;
  sqs: SQSClient;
  nonces: LinkNonceStore;
  idTokens: LineIdTokenVerifier;
  /** each verified ID token links once */
  usedIdTokens: IdTokenGuard;
  /** the channel's bot user id: its `destination` setting, or `GET /v2/bot/info` once per cold start */
  destinationOf(channel: LinkChannel): Promise<string>;
}

/** The link API's clients, built once per container; a channel without `destination` asks LINE once. */
export function buildLinkApiDeps(
  config: LinkApiConfig,
  dynamo = new DynamoDBClient({ cacheMiddleware: true }),
  sqs: SQSClient = createSqsClient(),
): LinkApiDeps {
  const botIds = new Map<string, () => Promise<string>>();
  const destinationOf = (channel: LinkChannel): Promise<string> => {
    let lookup = botIds.get(channel.id);
    if (lookup === undefined) {
      lookup = botDestination(channel.destination, {
        channelAccessToken: channel.channelAccessToken,
        baseUrl: config.lineApiBaseUrl,
        timeoutMs: config.lineApiTimeoutMs,
      });
      botIds.set(channel.id, lookup);
    }
    return lookup();
  };
  return {
    config,
    sqs,
    nonces: new LinkNonceStore(dynamo, config.tableName),
    idTokens: new LineIdTokenVerifier({ baseUrl: config.lineApiBaseUrl, timeoutMs: config.lineApiTimeoutMs }),
    usedIdTokens: new IdTokenGuard(dynamo, config.tableName),
    destinationOf,
  };
}
