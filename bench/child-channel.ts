import { fork, type ChildProcess } from 'node:child_process';

/**
 * A TypeScript entry run under tsx in its own node process, spoken to over IPC one message at a time.
 * Figures use one where the process itself matters: the webhook's own stdout and module state, or one
 * process per emulated Lambda instance (module-level state such as the batch processor is per instance
 * in Lambda, so it must be here too). stdout is discarded; stderr is kept for the failure report.
 */
export class ChildChannel {
  readonly #child: ChildProcess;
  readonly #inbox: unknown[] = [];
  #waiting: { resolve: (message: unknown) => void; reject: (error: Error) => void } | undefined;
  #failure: Error | undefined;
  #stderr = '';

  constructor(entry: string, args: string[], env: NodeJS.ProcessEnv) {
    this.#child = fork(entry, args, { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.#child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    this.#child.on('message', (message) => {
      if (this.#waiting) this.#waiting.resolve(message);
      else this.#inbox.push(message);
      this.#waiting = undefined;
    });
    const fail = (error: Error) => {
      this.#failure ??= error;
      this.#waiting?.reject(this.#failure);
      this.#waiting = undefined;
    };
    this.#child.on('error', fail);
    this.#child.on('close', (code, signal) => fail(new Error(`${entry} exited (${code ?? signal}):\n${this.#stderr}`)));
  }

  /** The next message from the child; rejects if it exits first. */
  next<T>(): Promise<T> {
    if (this.#inbox.length > 0) return Promise.resolve(this.#inbox.shift() as T);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<T>((resolve, reject) => {
      this.#waiting = { resolve: resolve as (message: unknown) => void, reject };
    });
  }

  request<T>(message: unknown): Promise<T> {
    const reply = this.next<T>();
    this.#child.send(message as object);
    return reply;
  }

  stop(): void {
    this.#child.kill();
  }
}
