import type { SecretResolver } from './config';

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

/** Reads SecureString parameters through Powertools (cached, decrypted); loaded only when a *_PARAM is used. */
export const ssmSecret: SecretResolver = async (name) => {
  const { getParameter } = await import('@aws-lambda-powertools/parameters/ssm');
  return getParameter(name, { decrypt: true, maxAge: 300 });
};
