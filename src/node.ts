/**
 * Node.js entry: `node dist/src/node.js` starts the server (src/platform/node/server.ts) and
 * drains it on SIGTERM/SIGINT; `node dist/src/node.js <command>` runs one of COMMANDS and
 * exits (src/platform/node/commands.ts). Exit codes: 0 done, 1 failed (the message on stderr),
 * 2 unknown command. This file and src/worker.ts are the two entries; only they (through
 * src/platform/node/ here) know which runtime they run on.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNodeServer } from './platform/node/server.js';
import { demoBanner } from './db/demo-seed.js';

/**
 * `notifications-worker` runs until SIGTERM/SIGINT (a Deployment), the others once (Jobs). Each is
 * imported when run, so the server never loads the migrator (and PGlite's) it does not use.
 */
const COMMANDS: Record<string, () => Promise<unknown>> = {
  migrate: () => import('./platform/node/commands.js').then((m) => m.migrateCommand()),
  'payments-job': () => import('./platform/node/commands.js').then((m) => m.paymentsJobCommand()),
  'notifications-worker': () => import('./platform/node/notifications-worker.js').then((m) => m.notificationsWorkerCommand()),
};

const fail = (err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
};

function main(command: string | undefined): void {
  if (command !== undefined) {
    const run = COMMANDS[command];
    if (!run) {
      console.error(`unknown command ${command}; the server takes none, or one of: ${Object.keys(COMMANDS).join(', ')}`);
      process.exit(2);
    }
    run().then(() => process.exit(0), fail);
    return;
  }
  startNodeServer()
    .then(({ url, deps, demo, shutdown }) => {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => void shutdown(signal).then(() => process.exit(0), fail));
      }
      // The "listening on" line comes last: whoever waits for it (a person, a test, a script)
      // has the whole start-up output, and the signal handlers are in place.
      if (demo) console.log(demoBanner(demo));
      console.log(`Laundry API listening on ${url}${deps.config.docsUi ? ` (docs: ${url}/docs)` : ''}`);
    })
    .catch(fail);
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) main(process.argv[2]);
