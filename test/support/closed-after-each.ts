/**
 * Wraps a server factory so that every server a test starts is closed after that test, however it ends.
 * Call at the top level of a test file.
 */
export function closedAfterEach<O, S extends { close(): Promise<void> }>(
  start: (options?: O) => Promise<S>,
): (options?: O) => Promise<S> {
  const running: S[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((server) => server.close()));
  });
  return async (options?: O) => {
    const server = await start(options);
    running.push(server);
    return server;
  };
}
