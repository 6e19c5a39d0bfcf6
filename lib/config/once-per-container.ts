import type { SecretResolver } from './env-reader';

/**
 * Handlers build their clients and read configuration once per container, on the first invocation
 * (secrets come from SSM, which needs an await). A failed build is not cached, so a transient SSM
 * error does not poison the container.
 */
export function onceAsync<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/** Reads SecureString parameters through Powertools (cached, decrypted); loaded only when a *_PARAM (or *_PATH) is used. */
export const ssmSecret: SecretResolver = Object.assign(
  async (name: string) => {
    const { getParameter } = await import('@aws-lambda-powertools/parameters/ssm');
    return getParameter(name, { decrypt: true, maxAge: 300 });
  },
  {
    /** GetParametersByPath, every page, not recursive: the parameters directly under the path. */
    byPath: async (path: string): Promise<Record<string, string>> => {
      const { getParameters } = await import('@aws-lambda-powertools/parameters/ssm');
      return (await getParameters(path, { decrypt: true, recursive: false, maxAge: 300 })) as Record<string, string>;
    },
  },
);
