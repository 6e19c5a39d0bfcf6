import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type CapillaryStandIn, startCapillaryStandIn } from '../standins/capillary-standin';
import { type LineStandIn, startLineStandIn } from '../standins/line-standin';
import { createSqsClient } from '../../lib/queue/sqs-client';
import { freezeGhostDynamoCalls, freezeGhostFetches } from './lambda-sandbox';

/** Fresh random values, so that finding one of them in the logs can only mean it leaked. */
export interface ChaosSecrets {
  channelSecret: string;
  channelAccessToken: string;
  capillaryClientKey: string;
  capillaryClientSecret: string;
}

/** The servers and clients a chaos run talks to; one set serves many runs (each resets the stand-ins). */
export interface ChaosServices {
  capillary: CapillaryStandIn;
  line: LineStandIn;
  sqs: SQSClient;
  /** the worker's client: calls from an ended invocation are refused */
  dynamo: DynamoDBClient;
  secrets: ChaosSecrets;
  close(): Promise<void>;
}

const secret = (label: string) => `${label}-${randomBytes(16).toString('hex')}`;

/** Needs the local AWS servers' endpoints in process.env (jest's globalSetup, or startAwsServers). */
export async function startChaosServices(): Promise<ChaosServices> {
  const secrets: ChaosSecrets = {
    channelSecret: randomBytes(16).toString('hex'),
    channelAccessToken: secret('line-token'),
    capillaryClientKey: secret('cap-key'),
    capillaryClientSecret: secret('cap-secret'),
  };
  const capillary = await startCapillaryStandIn({ clientKey: secrets.capillaryClientKey, clientSecret: secrets.capillaryClientSecret });
  const line = await startLineStandIn({ channelAccessToken: secrets.channelAccessToken, unknownUsers: 'not-found' });
  const dynamo = new DynamoDBClient({});
  freezeGhostDynamoCalls(dynamo);
  const restoreFetch = freezeGhostFetches();
  const sqs = createSqsClient();
  return {
    capillary, line, sqs, dynamo, secrets,
    async close() {
      restoreFetch();
      sqs.destroy();
      dynamo.destroy();
      await Promise.all([capillary.close(), line.close()]);
    },
  };
}
