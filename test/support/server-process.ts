/**
 * The Node server as `npm start` runs it (`node --import tsx src/node.ts`: one process, so
 * signals reach the app), for tests that need a real process: a second one on the same
 * embedded database, the event loop under a login burst, socket timeouts.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ServerProcess {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
}

export function spawnServer(env: Record<string, string>, args: string[] = ['src/node.ts']): ServerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, output })),
  );
  return { child, output: () => output, exited };
}

/** Starts a server and waits for its "listening on" line; fails with its output if it exits first. */
export async function startServer(env: Record<string, string>): Promise<ServerProcess & { url: string }> {
  const server = spawnServer(env);
  for (;;) {
    const m = /listening on (http:\/\/\S+)/.exec(server.output());
    if (m) return { ...server, url: m[1]!.replace('localhost', '127.0.0.1') };
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`the server exited ${server.child.exitCode ?? server.child.signalCode} before listening:\n${server.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGTERM, and the exit code (0 after a clean drain). */
export async function stopServer(server: ServerProcess): Promise<number | null> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return server.child.exitCode;
  server.child.kill('SIGTERM');
  return (await server.exited).code;
}
