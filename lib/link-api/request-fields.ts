import { DEFAULT_CHANNEL_ID, type ById } from '../config/channels';
import type { LinkChannel } from '../config/link-api-config';
import { BadRequestError, NotFoundError } from '../http/errors';

const USER_ID = /^U[0-9a-f]{32}$/;
const TOKEN_FIELD = /^[\x21-\x7e]{1,4096}$/;

/** A token the caller passes on (link token, ID token): printable ASCII of a sane length. */
export function tokenField(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || !TOKEN_FIELD.test(value))
    throw new BadRequestError('field-invalid', `${field} must be a non-empty string of printable ASCII`, { field });
  return value;
}

export function userIdField(body: Record<string, unknown>): string {
  if (typeof body.userId !== 'string' || !USER_ID.test(body.userId))
    throw new BadRequestError('field-invalid', 'userId must be a LINE user id (U + 32 hex)', { field: 'userId' });
  return body.userId;
}

/** `channel` names one of the deployment's channels; without it, `default`. */
export function channelField(body: Record<string, unknown>, channels: ById<LinkChannel>): LinkChannel {
  const id = body.channel ?? DEFAULT_CHANNEL_ID;
  if (typeof id !== 'string')
    throw new BadRequestError('field-invalid', 'channel must be a string', { field: 'channel' });
  const channel = channels.get(id);
  if (channel === undefined)
    throw new NotFoundError('unknown-channel', `unknown channel "${id.slice(0, 64)}"`, { field: 'channel' });
  return channel;
}
