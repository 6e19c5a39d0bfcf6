import { createHmac } from 'node:crypto';

/** What LINE puts in x-line-signature: base64(HMAC-SHA256(channel secret, exact body bytes)). */
export function signLineBody(body: Buffer | string, channelSecret: string): string {
  return createHmac('sha256', channelSecret).update(body).digest('base64');
}
