import { messagingApi } from '@line/bot-sdk';

export interface LineProfileClientOptions {
  channelAccessToken: string;
  baseUrl: string;
  timeoutMs: number;
}

export type ProfileLookup = { found: true; displayName: string } | { found: false; reason: string };

/**
 * Display names only enrich a registration: a 404 (not a friend any more, no consent) or any other
 * failure of the LINE API must never fail the follow, so every outcome is a value, not a throw.
 */
export class LineProfileClient {
  readonly #client: messagingApi.MessagingApiClient;
  readonly #timeoutMs: number;

  constructor(options: LineProfileClientOptions) {
    this.#client = new messagingApi.MessagingApiClient({
      channelAccessToken: options.channelAccessToken,
      baseURL: options.baseUrl,
    });
    this.#timeoutMs = options.timeoutMs;
  }

  async lookup(userId: string): Promise<ProfileLookup> {
    let timer: NodeJS.Timeout | undefined;
    // The SDK has no timeout or AbortSignal option, so the wait is bounded here.
    const timeout = new Promise<ProfileLookup>((resolve) => {
      timer = setTimeout(() => resolve({ found: false, reason: 'timeout' }), this.#timeoutMs);
    });
    const request = this.#client.getProfile(userId).then(
      (profile): ProfileLookup => ({ found: true, displayName: profile.displayName }),
      (error: unknown): ProfileLookup => ({ found: false, reason: describeLineError(error) }),
    );
    try {
      return await Promise.race([request, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function describeLineError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown';
  if ('status' in error) return `http-${String(error.status)}`;
  const name = 'name' in error ? String(error.name) : 'unknown';
  // fetch rejects with a TypeError when the host cannot be reached at all.
  return name === 'TypeError' ? 'network-error' : name;
}
