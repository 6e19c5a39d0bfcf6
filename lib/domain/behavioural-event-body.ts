/**
 * The flat JSON body Capillary's behavioural-events integration URL takes for one matched LINE event
 * (docs/engagement.md#the-body). Pure: no AWS, no HTTP.
 */
import {
  DEFAULT_CUSTOMER_FIELD,
  engagementAttributes,
  type AttributeValue,
  type EngagementLineEvent,
  type EngagementRule,
} from './engagement-rules';

export type BehaviouralEventBody = Record<string, AttributeValue>;

export interface BehaviouralEventInput {
  rule: EngagementRule;
  event: EngagementLineEvent;
  /** the Capillary customer id the LINE user's record maps */
  customerId: number;
  /** IANA zone the event time is written in (Capillary stores it as given, with no offset); default UTC */
  timeZone?: string;
  /** the event's customer field (Capillary's field of type customer); default customer_id */
  customerField?: string;
}

const PARTS = ['year', 'month', 'day', 'hour', 'minute', 'second'] as const;

/** Whether the runtime knows this IANA time zone name (for a setting's check). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** `yyyy-MM-dd HH:mm:ss` of an epoch-ms instant in an IANA zone: one of the formats Capillary accepts for eventDateTime. */
export function eventDateTime(epochMs: number, timeZone = 'UTC'): string {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const parts = Object.fromEntries(format.formatToParts(epochMs).map(({ type, value }) => [type, value]));
  const [year, month, day, hour, minute, second] = PARTS.map((part) => parts[part] as string);
  return `${year}-${month}-${day} ${hour}:${minute}:${second}`;
}

/**
 * `event_name`, `external_event_id` (LINE's webhookEventId: the same event redelivered keeps it), `eventDateTime`,
 * the customer, then the rule's attributes (parseEngagementRules keeps them off these names).
 */
export function behaviouralEventBody({
  rule,
  event,
  customerId,
  timeZone,
  customerField = DEFAULT_CUSTOMER_FIELD,
}: BehaviouralEventInput): BehaviouralEventBody {
  return {
    event_name: rule.event,
    external_event_id: event.webhookEventId,
    eventDateTime: eventDateTime(event.timestamp, timeZone),
    [customerField]: String(customerId),
    ...engagementAttributes(rule, event),
  };
}
