/**
 * What the bench measures against is what `sls deploy` would ship: the per-function bundles and the
 * CloudFormation template of a real `sls package` (the serverless-esbuild options in serverless.yml
 * apply as they do for a deployment), read rather than restated.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { packageStack, type CloudFormationJson as Json } from '../ops/package-stack';

/** serverless.yml asks every stage for these two; their values change nothing the bench measures. */
const ORG_PARAMS = {
  capillaryBaseUrl: 'https://capillary.bench.invalid',
  capillaryLineAccountId: 'bench-line-account',
};

export interface DeployedFunction {
  name: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** the unzipped handler file, e.g. <dir>/webhook/functions/webhook.js */
  bundlePath: string;
  bundleBytes: number;
  /** the literal environment variables (CloudFormation references and SSM parameter names left out) */
  environment: Record<string, string>;
}

export interface Deployment {
  webhook: DeployedFunction;
  worker: DeployedFunction;
  /** the worker's SQS event source mapping on the events queue */
  workerBatchSize: number;
  workerMaxConcurrency: number;
  /** its mapping on the engagement queue */
  engagementMaxConcurrency: number;
  dispose(): void;
}

function literalEnvironment(variables: Json): Record<string, string> {
  return Object.fromEntries(
    Object.entries(variables).filter(([name, value]) => typeof value === 'string' && !name.endsWith('_PARAM')),
  ) as Record<string, string>;
}

export function packageDeployment(): Deployment {
  // A stage per run: serverless-esbuild's work folder is per stage, so concurrent runs do not collide.
  const stack = packageStack({ stage: `bench-${process.pid}`, params: ORG_PARAMS });
  const resources = stack.template.Resources as Json;
  const ofType = (type: string) =>
    Object.values(resources)
      .filter((resource: Json) => resource.Type === type)
      .map((resource: Json) => resource.Properties as Json);

  const functions = new Map(
    ofType('AWS::Lambda::Function').map((fn): [string, DeployedFunction] => {
      const name = path.basename(fn.Code.S3Key as string, '.zip');
      const handler = fn.Handler as string; // "functions/webhook.handler"
      const entry = `${handler.slice(0, handler.lastIndexOf('.'))}.js`;
      const bundle = stack.bundleOf(name).get(entry);
      if (!bundle) throw new Error(`the ${name} package has no ${entry}`);
      const bundlePath = path.join(stack.dir, name, entry);
      mkdirSync(path.dirname(bundlePath), { recursive: true });
      writeFileSync(bundlePath, bundle);
      return [
        name,
        {
          name,
          memoryMb: fn.MemorySize as number,
          timeoutSeconds: fn.Timeout as number,
          bundlePath,
          bundleBytes: bundle.length,
          environment: literalEnvironment(fn.Environment?.Variables ?? {}),
        },
      ];
    }),
  );
  const mappingOf = (queue: string) =>
    ofType('AWS::Lambda::EventSourceMapping').find((mapping) => mapping.EventSourceArn['Fn::GetAtt']?.[0] === queue);
  const [webhook, worker, mapping, engagementMapping] = [
    functions.get('webhook'),
    functions.get('worker'),
    mappingOf('EventsQueue'),
    mappingOf('EngagementQueue'),
  ];
  if (!webhook || !worker || !mapping || !engagementMapping)
    throw new Error('sls package produced no webhook, worker or SQS event source mappings of both queues');
  return {
    webhook,
    worker,
    workerBatchSize: mapping.BatchSize as number,
    workerMaxConcurrency: mapping.ScalingConfig.MaximumConcurrency as number,
    engagementMaxConcurrency: engagementMapping.ScalingConfig.MaximumConcurrency as number,
    dispose: stack.dispose,
  };
}
