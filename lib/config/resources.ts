/** The AWS resources serverless.yml creates and names in the environment of each function that uses them. */
import type { EnvReader } from './env-reader';

/** The one DynamoDB table the bridge keeps its state in. */
export const readTableName = (read: EnvReader): string => read.required('TABLE_NAME');

/** The FIFO queue of LINE events the worker drains. */
export const readEventsQueueUrl = (read: EnvReader): string => read.url('QUEUE_URL');

/** The FIFO queue of engagement events (ENGAGEMENT_QUEUE_URL); unset = they share the events queue. */
export const readEngagementQueueUrl = (read: EnvReader): string | undefined =>
  read.optional('ENGAGEMENT_QUEUE_URL') === undefined ? undefined : read.url('ENGAGEMENT_QUEUE_URL');
