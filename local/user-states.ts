/**
 * `npm run state`: every user record of the running local pipeline, channel by channel (the table holds one per bot
 * and user), with the Capillary customers that hold the user's LINE id in the stand-in.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import { maskUserId } from '../lib/observability/telemetry';
import { scanUserRecords } from '../lib/store/user-census';
import type { LocalPipelineStatus } from './pipeline-admin-api';
import { describeCustomers } from './replay';
import { customersWithIdentifier, type CapillaryState } from './standins/capillary-standin';
import { alignColumns } from './text-table';

export interface UserStateRow {
  channel: string;
  userId: string;
  customer: string;
  subscription: string;
  link: string;
  capillary: string;
}

export async function readUserStates(status: LocalPipelineStatus): Promise<UserStateRow[]> {
  const dynamo = new DynamoDBClient({
    endpoint: status.endpoints.dynamodb,
    region: 'ap-northeast-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const capillary = status.endpoints.capillary.standIn
    ? ((await (await fetch(`${status.endpoints.capillary.url}/__admin/state`)).json()) as CapillaryState)
    : undefined;
  try {
    const rows: UserStateRow[] = [];
    for (const channel of status.channels) {
      if (channel.destination === undefined) continue;
      for await (const { userId, state } of scanUserRecords(dynamo, status.tableName, channel.destination)) {
        const link = state.link;
        rows.push({
          channel: channel.id,
          userId,
          customer: state.customerId === undefined ? '-' : String(state.customerId),
          subscription: state.subscription ?? '-',
          link:
            link === undefined
              ? '-'
              : `${link.status}${state.linkedCustomerId === undefined ? '' : ` to ${state.linkedCustomerId}`}`,
          capillary: describeCustomers(
            capillary === undefined ? undefined : customersWithIdentifier(capillary, 'line', userId),
            status.channels,
          ),
        });
      }
    }
    return rows.sort((a, b) => a.userId.localeCompare(b.userId) || a.channel.localeCompare(b.channel));
  } finally {
    dynamo.destroy();
  }
}

/** One line per record; users appear masked as in the logs (u_…), with the first characters of the id. */
export function formatUserStates(rows: readonly UserStateRow[], status: LocalPipelineStatus): string {
  const unnamed = status.channels.filter(({ destination }) => destination === undefined).map(({ id }) => id);
  const note = unnamed.length > 0 ? [`(not listed: channel(s) ${unnamed.join(', ')} name no destination)`] : [];
  if (rows.length === 0)
    return `${['No user records yet: replay some events (npm run replay -- events/).', ...note].join('\n')}\n`;
  const table = alignColumns([
    ['CHANNEL', 'USER', 'CUSTOMER', 'SUBSCRIPTION', 'LINK', 'CAPILLARY'],
    ...rows.map((row) => [
      row.channel,
      `${maskUserId(row.userId)} (${row.userId.slice(0, 9)}…)`,
      row.customer,
      row.subscription,
      row.link,
      row.capillary,
    ]),
  ]);
  return `${[`${rows.length} user record(s) in ${status.tableName}`, ...table, ...note].join('\n')}\n`;
}
