import type { APIGatewayProxyEventV2 } from 'aws-lambda';

import { readNotificationsConfig } from '../lib/config/notifications-config';
import { onceAsync, ssmSecret } from '../lib/config/once-per-container';
import { eventOfKind } from '../lib/entry/event-shape';
import { handleNotificationRequest } from '../lib/notifications/handle-notification-request';
import { buildNotificationsDeps } from '../lib/notifications/notifications-deps';
import { withTelemetry } from '../lib/observability/telemetry';

/** Built on a container's first request: the configuration (tokens from SSM) and the clients. */
const deps = onceAsync(async () => buildNotificationsDeps(await readNotificationsConfig(process.env, ssmSecret)));

export const handler = withTelemetry(async (event: APIGatewayProxyEventV2) =>
  handleNotificationRequest(eventOfKind('capillaryNotifications', 'http', event), await deps()),
);
