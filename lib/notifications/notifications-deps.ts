import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

import type { NotificationsConfig } from '../config/notifications-config';
import { createSqsClient } from '../queue/sqs-client';
import { DynamoCustomerIndex } from '../store/customer-index';
import { DynamoNotificationLog } from '../store/notification-log';
import type { CustomerIndex, NotificationLog } from '../store/ports';

export interface NotificationsDeps {
  config: NotificationsConfig;
  sqs: SQSClient;
  /** which LINE users' records name a customer */
  index: CustomerIndex;
  /** notifications already applied */
  applied: NotificationLog;
}

/** The notifications function's clients, built once per container. */
export function buildNotificationsDeps(
  config: NotificationsConfig,
  dynamo = new DynamoDBClient({ cacheMiddleware: true }),
  sqs: SQSClient = createSqsClient(),
): NotificationsDeps {
  return {
    config,
    sqs,
    index: new DynamoCustomerIndex(dynamo, config.tableName),
    applied: new DynamoNotificationLog(dynamo, config.tableName),
  };
}
