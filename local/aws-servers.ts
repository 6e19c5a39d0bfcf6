import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { LOCAL_REGION } from '../ops/serverless-resources';

export interface AwsServers {
  dynamoEndpoint: string;
  sqsEndpoint: string;
  /** Environment for SDK clients (and child processes) to reach these servers. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Real protocol servers for the AWS services the bridge uses: dynalite (DynamoDB) and fauxqs (SQS,
 * FIFO groups, dedup and DLQ redrive). Both run in this process and listen on 127.0.0.1.
 */
export async function startAwsServers(ports: { dynamoPort: number; sqsPort: number }): Promise<AwsServers> {
  const { default: dynalite } = await import('dynalite');
  const dynamo: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    dynamo.once('error', reject);
    dynamo.listen(ports.dynamoPort, '127.0.0.1', () => resolve());
  });
  const dynamoEndpoint = `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`;

  // fauxqs is ESM-only (its exports map has no "require" condition): load it with a native import().
  // buildApp rather than startFauxqs, which always listens on 0.0.0.0: everything local stays on loopback.
  // Its queue URLs name sqs.<region>.localhost:<port>, hence createSqsClient's useQueueUrlAsEndpoint: false.
  const { buildApp } = await import('fauxqs');
  const sqs = buildApp({ logger: false, defaultRegion: LOCAL_REGION });
  const sqsAddress = await sqs.listen({ port: ports.sqsPort, host: '127.0.0.1' });
  const sqsEndpoint = `http://127.0.0.1:${new URL(sqsAddress).port}`;

  return {
    dynamoEndpoint,
    sqsEndpoint,
    env: {
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
      AWS_ENDPOINT_URL_SQS: sqsEndpoint,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    },
    async stop() {
      await sqs.close();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
}
