import type { APIGatewayProxyEventV2 } from 'aws-lambda';

import { readLinkApiConfig } from '../lib/config/link-api-config';
import { onceAsync, ssmSecret } from '../lib/config/once-per-container';
import { eventOfKind } from '../lib/entry/event-shape';
import { handleLinkRequest } from '../lib/link-api/handle-link-request';
import { buildLinkApiDeps } from '../lib/link-api/link-api-deps';
import { withTelemetry } from '../lib/observability/telemetry';

/** Built on a container's first request: the configuration (tokens from SSM) and the clients. */
const deps = onceAsync(async () => buildLinkApiDeps(await readLinkApiConfig(process.env, ssmSecret)));

export const handler = withTelemetry(async (event: APIGatewayProxyEventV2) =>
  handleLinkRequest(eventOfKind('linkApi', 'http', event), await deps()),
);
