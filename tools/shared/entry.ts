/**
 * The command-line side every tool shares: "am I the file node was asked to run?", "run main and
 * exit 1 if it throws", and "on SIGINT/SIGTERM close the server once, then exit". Each tool
 * stays importable as a library (tests start it in-process) and runnable as a command
 * (`npx tsx tools/<tool>/index.ts`) from one file.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * True when the module whose `import.meta.url` is `moduleUrl` is the process's entry file
 * (`process.argv[1]`, symlinks resolved), false when it was imported or argv[1] does not exist.
 */
export function isEntryPoint(moduleUrl: string): boolean {
  const entry = process.argv[1];
  try {
    return !!entry && moduleUrl === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

/**
 * Runs `main` only when `moduleUrl` is the entry file (see isEntryPoint); a rejection is printed
 * to stderr and the process exits with status 1.
 */
export function runIfEntryPoint(moduleUrl: string, main: () => Promise<void>): void {
  if (isEntryPoint(moduleUrl)) {
    main().catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
  }
}

/**
 * On the first SIGINT or SIGTERM: logs `<name>: <signal>, shutting down`, awaits `close`, then
 * exits 0 (or prints the error and exits 1). A second signal while closing is ignored.
 */
export function stopOnSignals(name: string, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${name}: ${signal}, shutting down`);
    close().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
