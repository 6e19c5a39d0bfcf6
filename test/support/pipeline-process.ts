/**
 * `npm start` as a child process, and commands run against it as an operator's shell would: shared by the
 * local pipeline's tests (replay, redrive, backfill, reconcile).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

import { PipelineAdminClient, type LocalPipelineStatus } from '../../local/pipeline-admin-api';

export const ROOT = path.resolve(__dirname, '../..');

/** Polls until the check passes; the deadline only bounds a hang, it asserts nothing about timing. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
  deadlineMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A clean shell's environment: none of the suite's local AWS endpoints, stand-in switches or log settings. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(AWS_|CAPILLARY_|LINE_|POWERTOOLS_)/.test(name)),
  );
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; stdin gets `input` and is closed (an empty stdin unless given). */
export function run(command: string, args: string[], input = '', env: NodeJS.ProcessEnv = {}): Promise<Finished> {
  const child = spawn(command, args, { cwd: ROOT, env: { ...cleanEnv(), ...env } });
  child.stdin.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

export interface PipelineProcess {
  process: ChildProcess;
  status: LocalPipelineStatus;
  /** everything it printed so far */
  output(): string;
}

/**
 * `npm start` on free ports, in its own process group (so a test can press "Ctrl-C" for npx → tsx → node), once ready;
 * `args` are more options (`--replay events/`: `npm run demo`).
 */
export async function startPipelineProcess(deadlineMs = 30_000, args: string[] = []): Promise<PipelineProcess> {
  const child = spawn(
    'npx',
    [
      'tsx',
      'scripts/start.ts',
      '--webhook-port',
      '0',
      '--sqs-port',
      '0',
      '--dynamodb-port',
      '0',
      '--capillary-port',
      '0',
      '--line-port',
      '0',
      '--brand-port',
      '0',
      ...args,
    ],
    {
      cwd: ROOT,
      env: cleanEnv(),
      detached: true,
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const webhookUrl = await eventually(
    () => /Webhook +POST (\S+)/.exec(output)?.[1],
    `the ready banner; output so far:\n${output}`,
    deadlineMs,
  );
  return { process: child, status: await new PipelineAdminClient(webhookUrl).status(), output: () => output };
}

/** The operator's shell: a script run against this pipeline's local servers (npm start's own ports are taken by other runs). */
export function runAsOperator(status: LocalPipelineStatus, script: string, args: string[]): Promise<Finished> {
  const { sqs, dynamodb, capillary, line } = status.endpoints;
  return run('npx', ['tsx', script, ...args], '', {
    AWS_ENDPOINT_URL_SQS: sqs,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb,
    CAPILLARY_BASE_URL: capillary.url,
    LINE_API_BASE_URL: line.url,
  });
}
