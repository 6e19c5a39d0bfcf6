/**
 * Node's reasons for a request that never reached the queue (refused, no such host, no route, timed out, reset), as
 * its messages spell them: `connect ECONNREFUSED 127.0.0.1:4566`. Read from the message because the SDK may wrap
 * the error in one of its own (an error from another realm loses its `code`), keeping that text.
 */
const UNREACHABLE = /(?:\w+ )?\b(?:ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET)\b.*/;

/**
 * Why a send to SQS failed, for the log: "queue unreachable" with Node's reason when the request never got there
 * (such an error's name is only `Error`), else the name of the error SQS answered (AccessDenied, QueueDoesNotExist, …).
 */
export function sendFailureReason(error: unknown): string {
  const { message, name } = (error ?? {}) as { message?: unknown; name?: unknown };
  const unreachable = UNREACHABLE.exec(String(message ?? ''));
  if (unreachable) return `queue unreachable: ${unreachable[0]}`;
  return typeof name === 'string' ? name : String(error);
}
