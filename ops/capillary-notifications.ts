/**
 * Capillary's event notifications for a stage (docs/deploy.md#capillary-event-notifications): the webhook account
 * Capillary needs, as `POST /v3/webHooks` takes it (capillary-api docs "Add webhook (v3)") or as InTouch's
 * Organization Settings → Event Notifications → New Webhook form asks for it.
 */
import type { CapillaryHttpClient } from '../lib/capillary/http-client';

/** The notifications the bridge applies (lib/notifications/identity-notices.ts); any other is acknowledged only. */
export const SUBSCRIBED_EVENTS = ['loyaltyCustomerMerge', 'requestUpdated'] as const;

export interface WebhookAccount {
  name: string;
  webHookUrl: string;
  methodType: 'POST';
  webHookType: 'HTTP';
  eventNames: string[];
  webHookHeaders: Record<string, string>;
  maxAllowedConnections: number;
  slaInSeconds: number;
  customerIdentifiersToBeEnriched: string[];
  active: boolean;
}

/** One account per stage and org: its name says which. Few connections: a notification is a handful of queue writes. */
export function webhookAccount(stage: string, url: string, token: string): WebhookAccount {
  return {
    name: `line-capillary-bridge-${stage}`,
    webHookUrl: url,
    methodType: 'POST',
    webHookType: 'HTTP',
    eventNames: [...SUBSCRIBED_EVENTS],
    webHookHeaders: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    maxAllowedConnections: 5,
    slaInSeconds: 30,
    customerIdentifiersToBeEnriched: [],
    active: true,
  };
}

/** The settings to enter in InTouch by hand, one per line; the token itself is not printed. */
export function inTouchSettings(account: WebhookAccount): string[] {
  return [
    `Name: ${account.name}`,
    `URL: ${account.webHookUrl}`,
    `Method: ${account.methodType}`,
    'Headers: Authorization = Bearer <the capillary-notifications-token value>; Content-Type = application/json',
    `Events: ${account.eventNames.join(', ')}`,
    `Maximum allowed connections: ${account.maxAllowedConnections}; delivery SLA: ${account.slaInSeconds} s`,
    'Customer identifiers to enrich: none',
  ];
}

/** Registers the account; its id (`data.webHookId`) to update it later with PUT /v3/webHooks/{id}. */
export async function subscribe(http: CapillaryHttpClient, account: WebhookAccount): Promise<string> {
  const response = await http.request('notifications-subscribe', 'POST', '/v3/webHooks', account);
  const data = (response.body as { data?: { webHookId?: unknown } }).data;
  if (response.status >= 300 || data?.webHookId === undefined) {
    const errors = (response.body.errors ?? []).map((error) => `${error.code} ${error.message ?? ''}`.trim());
    throw new Error(
      `Capillary refused the webhook account (HTTP ${response.status}${errors.length ? `: ${errors.join('; ')}` : ''})`,
    );
  }
  return String(data.webHookId);
}
