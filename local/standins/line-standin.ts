/**
 * A local LINE Messaging API with the one call the bridge makes, get profile (docs/line.md#get-profile):
 * bearer-token auth, `x-line-request-id` on every answer and `{"message":"Not found"}` for
 * users who do not exist, are not friends, blocked the account or gave no consent.
 */
import { createHash } from 'node:crypto';
import { InvalidAdminRequestError, StandInSettings, startStandInServer, type Clock, type RouteHandler, type StandInServer } from './standin-kit';
import { isRecord } from '../../lib/is-record';
import { LOCAL_CREDENTIALS } from '../local-credentials';

export interface LineProfile {
  displayName: string;
  pictureUrl?: string;
  statusMessage?: string;
  language?: string;
}

/** 'generate': any well-formed user id has a profile; 'not-found': only the configured ones do. */
export type UnknownLineUsers = 'generate' | 'not-found';

export interface LineStandInOptions {
  /** 0 picks a free port */
  port?: number;
  /** the token of each channel served (one LINE API, several channels of one provider) */
  channelAccessToken?: string | readonly string[];
  latencyMs?: number;
  /** userId → profile */
  profiles?: Record<string, LineProfile>;
  unknownUsers?: UnknownLineUsers;
  clock?: Clock;
}

export interface LineSettings {
  latencyMs: number;
}

export interface LineStandInState {
  profiles: Record<string, LineProfile>;
  blockedUserIds: string[];
  unknownUsers: UnknownLineUsers;
}

export interface LineStandIn extends StandInServer<LineSettings> {
  state(): LineStandInState;
  /** adds or replaces a profile, and unblocks the user */
  setProfile(userId: string, profile: LineProfile): void;
  /** a blocked user answers 404, as after an unfollow */
  setBlocked(userId: string, blocked: boolean): void;
}

const USER_ID = /^U[0-9a-f]{32}$/;
const NOT_FOUND_REPLY = { status: 404, body: { message: 'Not found' } };
const UNAUTHORIZED_REPLY = { status: 401, body: { message: 'Authentication failed. Confirm that the access token in the authorization header is valid.' } };
const RATE_LIMIT_MESSAGE = 'The API rate limit has been exceeded. Try again later.';

/** LINE's error body; its 429 wording is documented, so injected 429s use it too. */
function lineErrorBody(status: number, message: string) {
  return { message: status === 429 ? RATE_LIMIT_MESSAGE : message };
}

/** Deterministic, and from a hash so the display name (which may reach logs) carries no part of the id. */
function generatedProfile(userId: string): LineProfile {
  return { displayName: `LINE user ${createHash('sha256').update(userId).digest('hex').slice(0, 4)}` };
}

function parseProfile(raw: Record<string, unknown>): LineProfile {
  if (typeof raw.displayName !== 'string') throw new InvalidAdminRequestError('a profile needs a displayName string');
  const optional = (['pictureUrl', 'statusMessage', 'language'] as const).flatMap((field) => {
    const value = raw[field];
    if (value === undefined) return [];
    if (typeof value !== 'string') throw new InvalidAdminRequestError(`${field} must be a string`);
    return [[field, value] as const];
  });
  return { displayName: raw.displayName, ...Object.fromEntries(optional) };
}

export async function startLineStandIn(options: LineStandInOptions = {}): Promise<LineStandIn> {
  const bearers = new Set([options.channelAccessToken ?? LOCAL_CREDENTIALS.lineChannelAccessToken].flat().map((token) => `Bearer ${token}`));
  const unknownUsers = options.unknownUsers ?? 'generate';
  const initialProfiles = structuredClone(options.profiles ?? {});
  let profiles = new Map(Object.entries(initialProfiles));
  const blocked = new Set<string>();

  const setProfile = (userId: string, profile: LineProfile): void => {
    profiles.set(userId, profile);
    blocked.delete(userId);
  };
  const setBlocked = (userId: string, isBlocked: boolean): void => {
    if (isBlocked) blocked.add(userId);
    else blocked.delete(userId);
  };

  const profileOf = (userId: string): LineProfile | undefined => {
    if (blocked.has(userId)) return undefined;
    const known = profiles.get(userId);
    if (known !== undefined || unknownUsers === 'not-found' || !USER_ID.test(userId)) return known;
    return generatedProfile(userId);
  };

  const getProfile: RouteHandler = ({ headers }, [userId = '']) => {
    if (headers.authorization === undefined || !bearers.has(headers.authorization)) return UNAUTHORIZED_REPLY;
    const profile = profileOf(userId);
    return profile === undefined ? NOT_FOUND_REPLY : { status: 200, body: { userId, ...profile } };
  };

  /** POST /__admin/profiles: `{ userId, displayName, … }` sets a profile; `{ userId, blocked }` blocks or unblocks. */
  const applyProfileChange = (body: unknown): LineStandInState => {
    if (!isRecord(body) || typeof body.userId !== 'string') throw new InvalidAdminRequestError('body needs a userId string');
    if (typeof body.blocked === 'boolean') setBlocked(body.userId, body.blocked);
    else setProfile(body.userId, parseProfile(body));
    return state();
  };

  const state = (): LineStandInState => ({
    profiles: structuredClone(Object.fromEntries(profiles)),
    blockedUserIds: [...blocked],
    unknownUsers,
  });

  const server = await startStandInServer({
    port: options.port ?? 0,
    requestIdHeader: 'x-line-request-id',
    settings: new StandInSettings<LineSettings>({ latencyMs: options.latencyMs ?? 0 }),
    clock: options.clock ?? Date.now,
    errorBody: lineErrorBody,
    routes: [{ method: 'GET', pattern: /^\/v2\/bot\/profile\/([^/]+)$/, handle: getProfile }],
    snapshot: state,
    resetState: () => {
      profiles = new Map(Object.entries(initialProfiles));
      blocked.clear();
    },
    adminRoutes: { 'POST /__admin/profiles': applyProfileChange },
  });

  return { ...server, state, setProfile, setBlocked };
}
