/**
 * What Lambda does to a worker invocation that the local poller does not: it ends the invocation at the
 * function timeout, and a crashed or timed-out sandbox does nothing more. In one Node process the
 * abandoned handler would keep running and keep calling Capillary and DynamoDB, which no real Lambda
 * can do; so every outbound call (fetch, DynamoDB) made on behalf of an abandoned invocation is refused.
 * A request already on the wire when the invocation ends still reaches its server, as in Lambda.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import type { SqsBatchHandler } from '../queue-poller';

export class LambdaTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`Task timed out after ${timeoutMs} ms`);
    this.name = 'LambdaTimeoutError';
  }
}

export class WorkerCrashError extends Error {
  constructor(where: string) {
    super(`Worker process crashed ${where}`);
    this.name = 'WorkerCrashError';
  }
}

/** An outbound call from a sandbox whose invocation already ended. */
export class FrozenSandboxError extends Error {
  constructor() {
    super('the invocation has ended; its sandbox makes no more calls');
    this.name = 'FrozenSandboxError';
  }
}

interface Invocation {
  ended: boolean;
  /** ends the invocation at once with this error (a crash) */
  end(error: Error): void;
}

const invocationScope = new AsyncLocalStorage<Invocation>();

/** True inside an invocation that timed out or crashed: whatever it still does is a ghost's work. */
const isGhostCall = (): boolean => invocationScope.getStore()?.ended === true;

/**
 * Kills the current invocation, as a process crash would: the poller gets an error for the whole batch
 * (nothing is deleted) and the sandbox makes no further call. Outside an invocation it only throws.
 */
export function crashCurrentInvocation(where: string): never {
  const error = new WorkerCrashError(where);
  invocationScope.getStore()?.end(error);
  throw error;
}

/** The poller's handler as one Lambda invocation: ended by the function timeout or by a crash. */
export function asLambdaInvocation(handler: SqsBatchHandler, timeoutMs: number): SqsBatchHandler {
  return (event, context) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => invocation.end(new LambdaTimeoutError(timeoutMs)), timeoutMs);
      const invocation: Invocation = {
        ended: false,
        end(error) {
          if (invocation.ended) return;
          invocation.ended = true;
          clearTimeout(timer);
          reject(error);
        },
      };
      invocationScope
        .run(invocation, () => handler(event, context))
        .then(
          (response) => {
            if (invocation.ended) return; // a ghost's answer reaches nobody
            invocation.ended = true;
            clearTimeout(timer);
            resolve(response);
          },
          (error: unknown) => invocation.end(error instanceof Error ? error : new Error(String(error))),
        );
    });
}

/**
 * Refuses fetch calls of ended invocations, and stamps the others with their send time (`x-sent-at`) for the
 * stand-ins' transit bound (standin-kit BaseSettings.maxTransitMs); returns the function that restores fetch.
 */
export function freezeGhostFetches(): () => void {
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    if (isGhostCall()) return Promise.reject(new FrozenSandboxError());
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    headers.set('x-sent-at', String(Date.now()));
    return original(input, { ...init, headers });
  };
  return () => {
    globalThis.fetch = original;
  };
}

/** Refuses this client's calls made by ended invocations. */
export function freezeGhostDynamoCalls(client: DynamoDBClient): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      if (isGhostCall()) throw new FrozenSandboxError();
      return next(args);
    },
    { step: 'initialize', name: 'freezeGhostCalls' },
  );
}
