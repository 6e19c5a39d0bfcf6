/** What decides whether two channels' records of one LINE user id are one person's. */
export interface ChannelScope {
  id: string;
  /** the Capillary org: one customer per LINE user id across its accounts */
  capillaryOrg: string;
  /** the LINE provider: one user id per person across its channels (absent: one provider per org) */
  lineProvider?: string;
}

/**
 * Another channel of the same LINE provider and the same Capillary org: there the user id is the same person, and
 * Capillary keeps their LINE profiles on one customer, so a link or an unlink moves them together. A channel of
 * another provider sees another id for that person; the same id there is someone else, or nobody.
 */
export function sharesUserIds(channel: ChannelScope, other: ChannelScope): boolean {
  return (
    other.id !== channel.id &&
    other.capillaryOrg === channel.capillaryOrg &&
    other.lineProvider === channel.lineProvider
  );
}
