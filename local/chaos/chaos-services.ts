import { randomBytes } from 'node:crypto';

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

import { createSqsClient } from '../../lib/queue/sqs-client';
import { startCapillaryStandIn, type CapillaryStandIn } from '../standins/capillary-standin';
import { startLineStandIn, type LineStandIn } from '../standins/line-standin';
import { freezeGhostDynamoCalls, freezeGhostFetches } from './lambda-sandbox';

/** A LINE channel of the chaos runs; channels of one provider see the same user ids. */
export interface ChaosChannel {
  id: string;
  provider: string;
  destination: string;
  capillaryLineAccountId: string;
  channelSecret: string;
  channelAccessToken: string;
}

/** Fresh random values, so that finding one of them in the logs can only mean it leaked. */
export interface ChaosSecrets {
  /** th and tw of one provider (one brand's Thai and Taiwanese accounts), jp of another */
  channels: ChaosChannel[];
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
  /** runs a Capillary admin action (a merge, a deletion) as if Capillary's clock read `time`: its notification's createdAt */
  atCapillaryTime<T>(time: number, act: () => T): T;
  close(): Promise<void>;
}

const secret = (label: string) => `${label}-${randomBytes(16).toString('hex')}`;

/** Needs the local AWS servers' endpoints in process.env (jest's globalSetup, or startAwsServers). */
export async function startChaosServices(): Promise<ChaosServices> {
  const channel = (id: string, provider: string): ChaosChannel => ({
    id,
    provider,
    destination: `U${randomBytes(16).toString('hex')}`,
    capillaryLineAccountId: `account-${id}`,
    channelSecret: randomBytes(16).toString('hex'),
    channelAccessToken: secret(`line-token-${id}`),
  });
  const secrets: ChaosSecrets = {
    channels: [channel('th', 'brand'), channel('tw', 'brand'), channel('jp', 'other-brand')],
    capillaryClientKey: secret('cap-key'),
    capillaryClientSecret: secret('cap-secret'),
  };
  let capillaryTime: number | undefined;
  const capillary = await startCapillaryStandIn({
    clientKey: secrets.capillaryClientKey,
    clientSecret: secrets.capillaryClientSecret,
    clock: () => capillaryTime ?? Date.now(),
  });
  const line = await startLineStandIn({
    channelAccessToken: secrets.channels.map((each) => each.channelAccessToken),
    // LINE's bot info for each token: the bot its webhooks name as destination.
    channels: secrets.channels.map((each) => ({
      channelAccessToken: each.channelAccessToken,
      botUserId: each.destination,
    })),
    unknownUsers: 'not-found',
  });
  const dynamo = new DynamoDBClient({});
  freezeGhostDynamoCalls(dynamo);
  const restoreFetch = freezeGhostFetches();
  const sqs = createSqsClient();
  return {
    capillary,
    line,
    sqs,
    dynamo,
    secrets,
    atCapillaryTime(time, act) {
      capillaryTime = time;
      try {
        return act();
      } finally {
        capillaryTime = undefined;
      }
    },
    async close() {
      restoreFetch();
      sqs.destroy();
      dynamo.destroy();
      await Promise.all([capillary.close(), line.close()]);
    },
  };
}
