/** A customer's profile as `GET /v2/customers/{id}` answers it (docs/capillary.md#lookup), read defensively. */
export type ProfileView = { source?: string; accountId?: string; identifiers?: { type?: string; value?: string }[] };

/** The profile of this LINE account that carries this LINE user, if the customer has one. */
export function lineProfileOf(
  profiles: ProfileView[],
  lineAccountId: string,
  lineUserId: string,
): ProfileView | undefined {
  return profiles.find(
    (profile) =>
      profile.source === 'LINE' &&
      profile.accountId === lineAccountId &&
      (profile.identifiers ?? []).some((identifier) => identifier.type === 'line' && identifier.value === lineUserId),
  );
}

/** The member's INSTORE identifier a LINE profile can share so that Capillary merges the two: mobile, else email, else externalId. */
export function sharedIdentifierOf(profiles: ProfileView[]): { type: string; value: string } | undefined {
  const identifiers = profiles.filter((profile) => profile.source === 'INSTORE').flatMap((p) => p.identifiers ?? []);
  for (const type of ['mobile', 'email', 'externalId']) {
    const found = identifiers.find((identifier) => identifier.type === type && typeof identifier.value === 'string');
    if (found) return { type, value: found.value as string };
  }
  return undefined;
}
