import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

import { HttpError } from './errors';
import { jsonResponse } from './json-response';

/** How one endpoint answers errors: its headers, its answer to its dependencies' failures, its log of refusals. */
export interface ErrorAnswers {
  /** on every answer of the endpoint, before the error's own */
  readonly headers?: Readonly<Record<string, string>>;
  /** The HttpError an error that is not one becomes (a dependency's failure, say); undefined lets it propagate. */
  readonly translate?: (failure: unknown) => HttpError | undefined;
  /** Told of every 4xx answer (the request was at fault) before it is sent. */
  readonly onRefused?: (refusal: HttpError) => void;
}

/**
 * The one place an error becomes an answer: an HttpError, or what the endpoint translates an error into,
 * answers with its status, body and headers. Anything else is rethrown: the Lambda fails, API Gateway answers
 * 500, and the error is in the function's log.
 */
export function errorResponse(error: unknown, answers: ErrorAnswers = {}): APIGatewayProxyStructuredResultV2 {
  const answer = error instanceof HttpError ? error : answers.translate?.(error);
  if (answer === undefined) throw error;
  if (answer.status < 500) answers.onRefused?.(answer);
  return jsonResponse(answer.status, answer.body, { ...answers.headers, ...answer.headers });
}
