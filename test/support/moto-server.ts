/**
 * moto's server mode (pip install 'moto[server]'): AWS APIs with no local server of their own (CloudWatch alarms),
 * answered over HTTP as AWS answers them. Optional tooling, as cfn-lint is: without it the caller skips, one line said.
 */
import { spawn, spawnSync } from 'node:child_process';

export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

export const motoInstalled = (): boolean => spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status === 0;

/** One moto server on an ephemeral loopback port; its state lives as long as it does. */
export function startMotoServer(deadlineMs = 30_000): Promise<MotoServer> {
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async () => {
    child.kill();
    await exited;
  };
  return new Promise((resolve, reject) => {
    let output = '';
    let started = false;
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`moto_server did not start in ${deadlineMs} ms: ${output}`));
    }, deadlineMs);
    // Read to the end: moto logs every request, and a full pipe would stall it.
    const read = (chunk: Buffer) => {
      if (started) return;
      output += chunk.toString();
      const running = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (running === null) return;
      started = true;
      clearTimeout(timer);
      resolve({ endpoint: running[1] as string, stop });
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
  });
}
