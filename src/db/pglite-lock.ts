/**
 * One process per embedded database folder. PGlite is single-process: two processes on one
 * folder each keep their own copy in memory and write over each other, so data diverges or
 * is lost without an error (issue 11: `npm run cli -- create-user` next to `npm start`
 * printed "created", and the user was gone after a restart). The first process to open a
 * folder takes `<folder>.lock`; any other fails at once, naming the holder.
 *
 * Why not proper-lockfile: its last release is from 2021, its lock (a directory) does not say
 * who holds it, and it judges staleness by the age of an mtime a timer refreshes, so a busy
 * event loop can lose a live lock. Here the lock is a file created with O_EXCL holding the
 * holder's pid, command and start time; a holder that no longer runs (kill -0 fails, or
 * /proc shows the pid reused by a newer process) left it stale, and the next process takes
 * it over. Node-only: used by createPgliteDatabase in src/db/pglite.ts.
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, relative, resolve } from 'node:path';

export interface LockHolder {
  pid: number;
  /** What runs there, e.g. `src/node.ts` or `scripts/cli.ts create-user` (never its arguments: they may hold a password). */
  command: string;
  startedAt: string;
  hostname: string;
  /** Linux: the process's start time in clock ticks since boot (/proc/<pid>/stat), to tell a reused pid. */
  startTicks?: string;
}

export class FolderLockedError extends Error {
  constructor(
    readonly folder: string,
    readonly holder: LockHolder,
  ) {
    super(
      `The embedded database folder ${folder} is in use by process ${holder.pid} (${holder.command}, started ${holder.startedAt}` +
        `${holder.hostname !== hostname() ? ` on ${holder.hostname}` : ''}). PGlite is single-process: a second process on the same ` +
        `folder would lose or corrupt data. Stop that process first (Ctrl-C in its terminal, or \`kill ${holder.pid}\`), or use ` +
        'another folder (PGLITE_DIR) or a PostgreSQL server (DATABASE_URL).' +
        (holder.hostname !== hostname()
          ? ` Its host cannot be checked from here: if no process on ${holder.hostname} uses the folder any more (a container that was replaced), delete ${folder}.lock.`
          : ''),
    );
    this.name = 'FolderLockedError';
  }
}

/** Linux /proc/<pid>/stat fields from the 3rd on (after the parenthesised command name), or undefined elsewhere. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Field 22, the start time in clock ticks since boot. */
const startTicks = (pid: number) => procStat(pid)?.[19];

function alive(holder: LockHolder): boolean {
  // Another machine sharing the folder: its processes cannot be checked from here.
  if (holder.hostname !== hostname()) return true;
  // This very process (a second open of the folder here would diverge just the same), or a
  // container restarted on the same volume that got the same low pid again.
  if (holder.pid === process.pid) return holder.startTicks !== undefined && holder.startTicks === startTicks(process.pid);
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = procStat(holder.pid);
  // A zombie (killed, not yet reaped by its parent) holds nothing any more.
  if (stat?.[0] === 'Z') return false;
  const ticks = stat?.[19];
  return !(holder.startTicks && ticks && ticks !== holder.startTicks);
}

function read(path: string): { holder: LockHolder | undefined; text: string } | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    try {
      return { holder: JSON.parse(text) as LockHolder, text };
    } catch {
      return { holder: undefined, text };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Creates `path` holding `text`, or returns false when it exists. */
function create(path: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

const ageMs = (path: string) => Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());

/** The command without its arguments, relative to the working directory: `src/node.ts`, `scripts/cli.ts create-user`. */
function describeCommand(): string {
  const script = process.argv[1] ? relative(process.cwd(), process.argv[1]) || basename(process.argv[1]) : 'node';
  const sub = process.argv[2] && !process.argv[2].startsWith('-') ? ` ${process.argv[2]}` : '';
  return `${script}${sub}`;
}

/**
 * Takes the lock on `folder` or throws FolderLockedError. Returns the release function (also
 * run on process exit, so a crash that still exits normally frees it; SIGKILL leaves a stale
 * lock the next process takes over).
 */
export function lockFolder(folder: string): () => void {
  const path = `${resolve(folder)}.lock`;
  const mine: LockHolder = { pid: process.pid, command: describeCommand(), startedAt: new Date().toISOString(), hostname: hostname() };
  const ticks = startTicks(process.pid);
  if (ticks) mine.startTicks = ticks;
  const text = `${JSON.stringify(mine)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (create(path, text)) return releaser(path, text);
    const seen = read(path);
    if (!seen) continue; // released meanwhile
    // Unparsable: another process is between creating and writing it, or crashed there.
    if (!seen.holder) {
      if (ageMs(path) < 2000) throw new FolderLockedError(folder, { pid: 0, command: 'unknown (lock being written)', startedAt: '?', hostname: hostname() });
    } else if (alive(seen.holder)) {
      throw new FolderLockedError(folder, seen.holder);
    }
    // Stale. Only one process may replace it: whoever creates the takeover marker; the rest
    // go round again and find the new holder alive.
    const marker = `${path}.takeover`;
    if (!create(marker, text)) {
      if (ageMs(marker) > 10_000) unlinkIfPresent(marker);
      continue;
    }
    try {
      if (read(path)?.text === seen.text) unlinkSync(path);
      if (create(path, text)) return releaser(path, text);
    } finally {
      unlinkIfPresent(marker);
    }
  }
  const last = read(path)?.holder;
  throw new FolderLockedError(folder, last ?? { pid: 0, command: 'unknown', startedAt: '?', hostname: hostname() });
}

/** Two starters may both clean up an old marker: the second finding it gone is not an error. */
function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function releaser(path: string, text: string): () => void {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    // Never remove a lock someone else took over meanwhile.
    if (read(path)?.text === text) unlinkSync(path);
  };
  process.on('exit', release);
  return release;
}
