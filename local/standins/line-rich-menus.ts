/**
 * The rich-menu part of the LINE stand-in (docs/loyalty.md#line-calls): menus that exist (created by the brand,
 * here through `POST /__admin/rich-menus`), their aliases, the menu linked to each user, bulk link (202, applied
 * at once here, LINE applies it later), and the loading animation. Unknown menus and aliases answer 404, a user
 * who blocked the account 400 (the refusals the bridge must count, not retry).
 */
import { randomBytes } from 'node:crypto';

import { isRecord } from '../../lib/is-record';
import { InvalidAdminRequestError, type Route, type RouteHandler } from './standin-kit';

export interface RichMenuRecord {
  richMenuId: string;
  name: string;
  aliasIds: string[];
}

export interface RichMenuState {
  richMenus: RichMenuRecord[];
  /** userId → the rich menu linked to that user (absent: the account's default menu shows) */
  userRichMenus: Record<string, string>;
  /** every loading animation started, in order */
  loadingAnimations: { chatId: string; loadingSeconds: number }[];
}

const USER_ID = /^U[0-9a-f]{32}$/;
const RICH_MENU_ID = /^richmenu-[0-9a-f]{32}$/;
const ALIAS_ID = /^[a-z0-9_-]{1,32}$/;
const BULK_MAX_USERS = 500;
const DEFAULT_LOADING_SECONDS = 20;
const MENU_NOT_FOUND = { status: 404, body: { message: 'Not found' } };
const BLOCKED = { status: 400, body: { message: 'The user is not a friend of the bot' } };
const badRequest = (message: string) => ({ status: 400, body: { message } });
const OK = { status: 200, body: {} };

export class RichMenuRegistry {
  #menus = new Map<string, RichMenuRecord>();
  #aliases = new Map<string, string>();
  #linked = new Map<string, string>();
  #loading: RichMenuState['loadingAnimations'] = [];

  /** `isBlocked`: the stand-in's blocked users, to whom LINE links no menu. */
  constructor(private readonly isBlocked: (userId: string) => boolean) {}

  /** A menu as the brand would create it; `aliasId` also makes that alias point at it. */
  create({ richMenuId, name = 'Local menu', aliasId }: { richMenuId?: string; name?: string; aliasId?: string } = {}) {
    const id = richMenuId ?? `richmenu-${randomBytes(16).toString('hex')}`;
    if (!RICH_MENU_ID.test(id)) throw new InvalidAdminRequestError('richMenuId must be richmenu- and 32 hex digits');
    if (aliasId !== undefined && !ALIAS_ID.test(aliasId))
      throw new InvalidAdminRequestError('aliasId must be 1 to 32 of a-z 0-9 _ -');
    const menu = this.#menus.get(id) ?? { richMenuId: id, name, aliasIds: [] };
    this.#menus.set(id, menu);
    if (aliasId !== undefined) {
      const previous = this.#menus.get(this.#aliases.get(aliasId) ?? '');
      if (previous !== undefined) previous.aliasIds = previous.aliasIds.filter((alias) => alias !== aliasId);
      this.#aliases.set(aliasId, id);
      menu.aliasIds = [...new Set([...menu.aliasIds, aliasId])];
    }
    return structuredClone(menu);
  }

  /** As LINE does: deleting a menu unlinks it from its users and drops its aliases. */
  delete(richMenuId: string): void {
    this.#menus.delete(richMenuId);
    for (const [alias, id] of this.#aliases) if (id === richMenuId) this.#aliases.delete(alias);
    for (const [userId, id] of this.#linked) if (id === richMenuId) this.#linked.delete(userId);
  }

  linkedMenuOf(userId: string): string | undefined {
    return this.#linked.get(userId);
  }

  state(): RichMenuState {
    return {
      richMenus: structuredClone([...this.#menus.values()]),
      userRichMenus: Object.fromEntries(this.#linked),
      loadingAnimations: structuredClone(this.#loading),
    };
  }

  reset(): void {
    this.#menus.clear();
    this.#aliases.clear();
    this.#linked.clear();
    this.#loading = [];
  }

  /** `authorized` wraps each handler in the stand-in's Bearer check. */
  routes(authorized: (handle: RouteHandler) => RouteHandler): Route[] {
    return [
      { method: 'GET', pattern: /^\/v2\/bot\/richmenu\/alias\/([^/]+)$/, handle: authorized(this.#getAlias) },
      { method: 'POST', pattern: /^\/v2\/bot\/richmenu\/bulk\/link$/, handle: authorized(this.#bulkLink) },
      { method: 'GET', pattern: /^\/v2\/bot\/richmenu\/([^/]+)$/, handle: authorized(this.#getMenu) },
      { method: 'POST', pattern: /^\/v2\/bot\/user\/([^/]+)\/richmenu\/([^/]+)$/, handle: authorized(this.#link) },
      { method: 'GET', pattern: /^\/v2\/bot\/user\/([^/]+)\/richmenu$/, handle: authorized(this.#getLinked) },
      { method: 'DELETE', pattern: /^\/v2\/bot\/user\/([^/]+)\/richmenu$/, handle: authorized(this.#unlink) },
      { method: 'POST', pattern: /^\/v2\/bot\/chat\/loading\/start$/, handle: authorized(this.#startLoading) },
    ];
  }

  /** `POST /__admin/rich-menus` `{richMenuId?, name?, aliasId?}`; `POST /__admin/rich-menus/delete` `{richMenuId}`. */
  readonly adminRoutes: Record<string, (body: unknown) => unknown> = {
    'POST /__admin/rich-menus': (body) => {
      const fields = body === undefined ? {} : body;
      if (!isRecord(fields) || Object.values(fields).some((value) => typeof value !== 'string'))
        throw new InvalidAdminRequestError('body must be {"richMenuId"?, "name"?, "aliasId"?} strings');
      return this.create(fields);
    },
    'POST /__admin/rich-menus/delete': (body) => {
      if (!isRecord(body) || typeof body.richMenuId !== 'string')
        throw new InvalidAdminRequestError('body needs a richMenuId string');
      this.delete(body.richMenuId);
      return this.state();
    },
  };

  #getMenu: RouteHandler = (_request, [richMenuId = '']) => {
    const menu = this.#menus.get(richMenuId);
    if (menu === undefined) return MENU_NOT_FOUND;
    const size = { width: 2500, height: 843 };
    return {
      status: 200,
      body: { richMenuId, size, selected: false, name: menu.name, chatBarText: 'Menu', areas: [] },
    };
  };

  #getAlias: RouteHandler = (_request, [aliasId = '']) => {
    const richMenuId = this.#aliases.get(decodeURIComponent(aliasId));
    return richMenuId === undefined ? MENU_NOT_FOUND : { status: 200, body: { richMenuAliasId: aliasId, richMenuId } };
  };

  #link: RouteHandler = (_request, [userId = '', richMenuId = '']) => {
    if (!USER_ID.test(userId)) return badRequest('Invalid user id');
    if (!this.#menus.has(richMenuId)) return MENU_NOT_FOUND;
    if (this.isBlocked(userId)) return BLOCKED;
    this.#linked.set(userId, richMenuId);
    return OK;
  };

  #getLinked: RouteHandler = (_request, [userId = '']) => {
    const richMenuId = this.#linked.get(userId);
    return richMenuId === undefined ? MENU_NOT_FOUND : { status: 200, body: { richMenuId } };
  };

  #unlink: RouteHandler = (_request, [userId = '']) => {
    if (!USER_ID.test(userId)) return badRequest('Invalid user id');
    if (this.isBlocked(userId)) return BLOCKED;
    this.#linked.delete(userId);
    return OK;
  };

  #bulkLink: RouteHandler = ({ body }) => {
    const { richMenuId, userIds } = isRecord(body) ? body : {};
    if (typeof richMenuId !== 'string') return badRequest('richMenuId is required');
    if (!Array.isArray(userIds) || userIds.length < 1 || userIds.length > BULK_MAX_USERS)
      return badRequest(`userIds must list 1 to ${BULK_MAX_USERS} user ids`);
    if (!userIds.every((userId) => typeof userId === 'string' && USER_ID.test(userId)))
      return badRequest('userIds must be user ids');
    if (!this.#menus.has(richMenuId)) return MENU_NOT_FOUND;
    // Asynchronous at LINE, with no per-user result: users who blocked the account are skipped silently.
    for (const userId of userIds as string[]) if (!this.isBlocked(userId)) this.#linked.set(userId, richMenuId);
    return { status: 202, body: {} };
  };

  #startLoading: RouteHandler = ({ body }) => {
    const { chatId, loadingSeconds = DEFAULT_LOADING_SECONDS } = isRecord(body) ? body : {};
    if (typeof chatId !== 'string' || !USER_ID.test(chatId) || this.isBlocked(chatId))
      return badRequest('An invalid chat ID is specified');
    if (typeof loadingSeconds !== 'number' || loadingSeconds < 5 || loadingSeconds > 60 || loadingSeconds % 5 !== 0)
      return badRequest('loadingSeconds must be a multiple of 5 from 5 to 60');
    this.#loading.push({ chatId, loadingSeconds });
    return { status: 202, body: {} };
  };
}
