/**
 * What the bench measures against is what `sls deploy` would ship: the per-function bundles and the
 * CloudFormation template of a real `sls package` (the serverless-esbuild options in serverless.yml
 * apply as they do for a deployment), read rather than restated.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const PROJECT_ROOT = path.resolve(__dirname, '..');
/** serverless.yml asks every stage for these two; their values change nothing the bench measures. */
const ORG_PARAMS = ['capillaryBaseUrl=https://capillary.bench.invalid', 'capillaryLineAccountId=bench-line-account'];

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
  /** the worker's SQS event source mapping */
  workerBatchSize: number;
  workerMaxConcurrency: number;
  dispose(): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON, walked by the shape serverless generates
type Json = Record<string, any>;

function literalEnvironment(variables: Json): Record<string, string> {
  return Object.fromEntries(Object.entries(variables).filter(([name, value]) => typeof value === 'string' && !name.endsWith('_PARAM'))) as Record<string, string>;
}

/** Packages offline: no AWS credentials, profile or endpoints from the caller's environment (or jest's). */
export function packageDeployment(): Deployment {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-package-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  // A stage per run: serverless-esbuild's work folder is per stage, so concurrent runs do not collide.
  const stage = `bench-${process.pid}`;
  execFileSync('npx', ['sls', 'package', '--stage', stage, '--region', 'ap-northeast-1', '--package', dir, ...ORG_PARAMS.flatMap((p) => ['--param', p])], {
    cwd: PROJECT_ROOT,
    env: { ...env, AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none'), AWS_CONFIG_FILE: path.join(dir, 'none') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const resources = (JSON.parse(readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Json).Resources as Json;
  const ofType = (type: string) => Object.values(resources).filter((resource: Json) => resource.Type === type).map((resource: Json) => resource.Properties as Json);

  const functions = new Map(ofType('AWS::Lambda::Function').map((fn): [string, DeployedFunction] => {
    const name = path.basename(fn.Code.S3Key as string, '.zip');
    const unzipped = path.join(dir, name);
    execFileSync('unzip', ['-q', path.join(dir, `${name}.zip`), '-d', unzipped]);
    const handler = fn.Handler as string; // "functions/webhook.handler"
    const bundlePath = path.join(unzipped, `${handler.slice(0, handler.lastIndexOf('.'))}.js`);
    return [name, {
      name,
      memoryMb: fn.MemorySize as number,
      timeoutSeconds: fn.Timeout as number,
      bundlePath,
      bundleBytes: statSync(bundlePath).size,
      environment: literalEnvironment(fn.Environment?.Variables ?? {}),
    }];
  }));
  const [webhook, worker, [mapping]] = [functions.get('webhook'), functions.get('worker'), ofType('AWS::Lambda::EventSourceMapping')];
  if (!webhook || !worker || !mapping) throw new Error('sls package produced no webhook, worker or SQS event source mapping');
  return {
    webhook,
    worker,
    workerBatchSize: mapping.BatchSize as number,
    workerMaxConcurrency: mapping.ScalingConfig.MaximumConcurrency as number,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
