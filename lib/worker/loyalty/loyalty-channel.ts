import type { Logger } from '@aws-lambda-powertools/logger';

import type { CapillaryHttpClient } from '../../capillary/http-client';
import { onceAsync } from '../../config/once-per-container';
import {
  menuForTier,
  menusOf,
  type MemberTier,
  type RichMenuRef,
  type RichMenusByTier,
} from '../../domain/loyalty-rules';
import type { MemberCardTexts } from '../../domain/member-card';
import type { RichMenuClient } from '../../line/rich-menu-client';
import { countForChannel, logger } from '../../observability/telemetry';

/** A channel's loyalty clients: its org's Capillary client (the shared budget), its LINE menus, its card texts. */
export interface LoyaltyChannel {
  id: string;
  loyalty: {
    capillary: CapillaryHttpClient;
    richMenus: RichMenuClient;
    /** undefined: the channel maps no tier, its members keep the account's default menu */
    menus: TierMenus | undefined;
    cardTexts: MemberCardTexts;
    programId?: number;
  };
}

const refKey = (menu: RichMenuRef) => ('richMenuId' in menu ? menu.richMenuId : `alias:${menu.aliasId}`);

/**
 * A channel's tier → menu map with its aliases resolved and its menu ids checked once per container, on the first
 * use (a failed check is not kept: the next use checks again). An unknown menu is a logged warning and a
 * RichMenuUnknown count, not a configuration error: the brand can delete a menu in LINE Official Account Manager
 * at any time, and follows and links must go on meanwhile; its members get the account's default menu.
 */
export class TierMenus {
  readonly #resolved: () => Promise<ReadonlyMap<string, string | undefined>>;

  constructor(
    readonly map: RichMenusByTier,
    client: RichMenuClient,
    channel: string,
    log: Logger = logger,
  ) {
    this.#resolved = onceAsync(async () => {
      const resolved = new Map<string, string | undefined>();
      for (const menu of menusOf(map)) {
        const richMenuId =
          'richMenuId' in menu
            ? (await client.menuExists(menu.richMenuId))
              ? menu.richMenuId
              : undefined
            : await client.resolveAlias(menu.aliasId);
        if (richMenuId === undefined) {
          countForChannel('RichMenuUnknown', channel);
          log.warn('A rich menu of the tier map is unknown to LINE: its members get the default menu', {
            channel,
            menu: refKey(menu),
          });
        }
        resolved.set(refKey(menu), richMenuId);
      }
      return resolved;
    });
  }

  /** The menu id of this tier; undefined when the tier has none (or its menu is unknown to LINE). */
  async menuIdFor(tier: MemberTier): Promise<string | undefined> {
    const menu = menuForTier(this.map, tier);
    return menu === undefined ? undefined : (await this.#resolved()).get(refKey(menu));
  }
}
