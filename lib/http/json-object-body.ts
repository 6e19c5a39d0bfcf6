import { isRecord } from '../is-record';
import { BadRequestError } from './errors';

/** A body whose fields an endpoint reads: UTF-8 JSON whose top level is an object, or a 400 naming the problem. */
export function parseJsonObject(raw: Buffer): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new BadRequestError('body-not-json', 'body must be JSON', { field: '$', cause: error });
  }
  if (!isRecord(body)) throw new BadRequestError('body-not-object', 'body must be a JSON object', { field: '$' });
  return body;
}
