/** Waits `ms` milliseconds. Every class that waits takes one as an option, so a test can pass one that does not. */
export type Sleep = (ms: number) => Promise<void>;

export const sleep: Sleep = (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms));
