/** Calls to the Capillary stand-in as the bridge makes them, with the local till's credentials. */
import { createHash } from 'node:crypto';

/** The Authorization header of the local till (the stand-in's default credentials). */
export const STANDIN_BASIC_AUTH = `Basic ${Buffer.from(`local.till:${createHash('md5').update('local-password').digest('hex')}`).toString('base64')}`;

/** `POST /v2/requests`: a merge of the victim into the survivor. */
export const postMergeRequest = (url: string, victim: number, survivor: number): Promise<Response> =>
  fetch(`${url}/v2/requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: STANDIN_BASIC_AUTH },
    body: JSON.stringify({ type: 'CHANGE_IDENTIFIER', baseType: 'MERGE', userId: victim, survivorUserId: survivor }),
  });
