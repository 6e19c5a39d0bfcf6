import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

import { DEFAULTS } from '../../lib/config/defaults';
import type { NotificationsConfig } from '../../lib/config/notifications-config';
import { buildNotificationsDeps, type NotificationsDeps } from '../../lib/notifications/notifications-deps';
import { createSqsClient } from '../../lib/queue/sqs-client';
import { UserSyncStore } from '../../lib/store/user-sync-store';
import { toApiGatewayV2Event } from '../lambda-events';
import { LOCAL_CREDENTIALS } from '../local-credentials';
import { createFifoQueue, type TestFifoQueue } from './aws-kit';
import { createUsersTable } from './worker-rig';

export const LOCAL_NOTIFICATIONS_TOKEN = LOCAL_CREDENTIALS.capillaryNotificationsToken;
export const NOTIFICATIONS_PATH = '/capillary/notifications';

export const notificationsConfigFor = (
  queueUrl: string,
  tableName: string,
  overrides: Partial<NotificationsConfig> = {},
): NotificationsConfig => ({
  tokens: [LOCAL_NOTIFICATIONS_TOKEN],
  queueUrl,
  tableName,
  maxBodyBytes: DEFAULTS.CAPILLARY_NOTIFICATIONS_MAX_BODY_BYTES,
  ...overrides,
});

/** A notification as API Gateway hands it over; `token: null` sends no Authorization header. */
export function notificationRequest(
  body: unknown,
  {
    token = LOCAL_NOTIFICATIONS_TOKEN as string | null,
    method = 'POST',
    path = NOTIFICATIONS_PATH,
    raw,
  }: { token?: string | null; method?: string; path?: string; raw?: Buffer } = {},
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return toApiGatewayV2Event({ method, path, headers, body: raw ?? Buffer.from(JSON.stringify(body)) });
}

export interface NotificationsHarness {
  deps: NotificationsDeps;
  sqs: SQSClient;
  dynamo: DynamoDBClient;
  queue: TestFifoQueue;
  /** the user records the index reads (the worker's store on the same table) */
  users: UserSyncStore;
  close(): Promise<void>;
}

/** The notifications function's real dependencies on the local servers (dynalite, fauxqs). */
export async function startNotificationsHarness(
  overrides: Partial<NotificationsConfig> = {},
  sqs: SQSClient = createSqsClient(),
): Promise<NotificationsHarness> {
  const dynamo = new DynamoDBClient({});
  const admin = createSqsClient(); // the local queue server, whatever `sqs` talks to
  const queue = await createFifoQueue(admin).finally(() => admin.destroy());
  const tableName = await createUsersTable(dynamo);
  const deps = buildNotificationsDeps(notificationsConfigFor(queue.queueUrl, tableName, overrides), dynamo, sqs);
  return {
    deps,
    sqs,
    dynamo,
    queue,
    users: new UserSyncStore(dynamo, tableName, 60_000),
    async close() {
      sqs.destroy();
      dynamo.destroy();
    },
  };
}

/**
 * The notifications function over `tableName` with a queue that only keeps what it is sent: a caller delivers the
 * queued bodies to the worker itself, when and in what order it chooses.
 */
export function notificationsKeepingQueued(
  queueName: string,
  dynamo: DynamoDBClient,
  tableName: string,
): { notifications: NotificationsDeps; queued: string[] } {
  const queued: string[] = [];
  const sqs = {
    send: async (command: SendMessageBatchCommand) => {
      queued.push(...(command.input.Entries ?? []).map((entry) => entry.MessageBody as string));
      return { Successful: [], Failed: [] };
    },
  } as unknown as SQSClient;
  return { notifications: buildNotificationsDeps(notificationsConfigFor(queueName, tableName), dynamo, sqs), queued };
}
