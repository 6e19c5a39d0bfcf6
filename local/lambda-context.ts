import { randomUUID } from 'node:crypto';

import type { Context } from 'aws-lambda';

import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../ops/serverless-resources';

export interface LocalFunction {
  /** the deployed name, e.g. line-capillary-bridge-local-worker */
  name: string;
  memoryMb: number;
  timeoutSeconds: number;
}

/** The Lambda context of one local invocation: what the handlers' logger and batch processor read. */
export function lambdaContext(fn: LocalFunction): Context {
  const deadline = Date.now() + fn.timeoutSeconds * 1000;
  const unsupported = () => {
    throw new Error('Lambda callback-style completion is not supported by the local pipeline');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${fn.name}`,
    memoryLimitInMB: String(fn.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
