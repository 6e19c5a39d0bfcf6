/**
 * `sls package` as a deployment runs it (and `sls invoke local`), but offline-safe: no AWS credentials, profile,
 * region or endpoint from the caller's shell (or jest's globalSetup) reach it. The packaged-stack tests and the
 * benchmark both read what `sls deploy` would ship from here.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';

const PROJECT_ROOT = path.resolve(__dirname, '..');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON, walked by the shape serverless generates
export type CloudFormationJson = Record<string, any>;

export interface PackagedStack {
  /** the --package folder: the template and one zip per function */
  dir: string;
  template: CloudFormationJson;
  /** the entries of a function's zip, by name (e.g. "functions/webhook.js") */
  bundleOf(functionName: string): Map<string, Buffer>;
  dispose(): void;
}

export class PackageFailedError extends Error {
  constructor(
    public readonly status: number | null,
    public readonly output: string,
  ) {
    super(`sls package failed (${status ?? 'killed'}):\n${output}`);
    this.name = 'PackageFailedError';
  }
}

/** Entries of a zip archive (stored or deflated), by name: enough for the archives serverless writes. */
export function readZip(file: string): Map<string, Buffer> {
  const zip = readFileSync(file);
  const endOfDirectory = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const entryCount = zip.readUInt16LE(endOfDirectory + 10);
  const entries = new Map<string, Buffer>();
  let header = zip.readUInt32LE(endOfDirectory + 16);
  for (let i = 0; i < entryCount; i += 1) {
    const method = zip.readUInt16LE(header + 10);
    const compressedSize = zip.readUInt32LE(header + 20);
    const nameLength = zip.readUInt16LE(header + 28);
    const localHeader = zip.readUInt32LE(header + 42);
    const name = zip.toString('utf8', header + 46, header + 46 + nameLength);
    const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    entries.set(name, method === 8 ? inflateRawSync(data) : data);
    header += 46 + nameLength + zip.readUInt16LE(header + 30) + zip.readUInt16LE(header + 32);
  }
  return entries;
}

/** The environment `sls` runs in here: the caller's, without any AWS credentials, profile, region or endpoint. */
function offlineEnvironment(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')),
  );
  env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'no-credentials');
  env.AWS_CONFIG_FILE = path.join(dir, 'no-config');
  return env;
}

/** `sls <argv> --region ap-northeast-1 --param …` in the project, offline; `scratch` holds nothing AWS can read. */
export function runSlsOffline(argv: string[], params: Record<string, string>, scratch: string) {
  const paramArguments = Object.entries(params).flatMap(([name, value]) => ['--param', `${name}=${value}`]);
  return spawnSync('npx', ['sls', ...argv, '--region', 'ap-northeast-1', ...paramArguments], {
    cwd: PROJECT_ROOT,
    env: offlineEnvironment(scratch),
    encoding: 'utf8',
    timeout: 240_000,
  });
}

export function packageStack({
  stage,
  params = {},
  extraArguments = [],
}: {
  stage: string;
  /** --param name=value pairs */
  params?: Record<string, string>;
  extraArguments?: string[];
}): PackagedStack {
  const dir = mkdtempSync(path.join(tmpdir(), 'sls-package-'));
  const result = runSlsOffline(['package', '--stage', stage, '--package', dir, ...extraArguments], params, dir);
  if (result.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new PackageFailedError(result.status, `${result.stdout}\n${result.stderr}`);
  }
  return {
    dir,
    template: JSON.parse(
      readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as CloudFormationJson,
    bundleOf: (functionName) => readZip(path.join(dir, `${functionName}.zip`)),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
