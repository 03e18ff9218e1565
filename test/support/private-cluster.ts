/**
 * A throwaway PostgreSQL cluster that a fault test owns and may break: stop it, start it,
 * freeze it (SIGSTOP), terminate its backends. Never the shared server on :5432.
 *
 * The binaries come from Debian's packages (/usr/lib/postgresql/<version>/bin). initdb and
 * pg_ctl refuse to run as root, so when the tests run as root they run as `postgres`
 * (runuser) on a temporary folder that user owns.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const ROOT = '/usr/lib/postgresql';

/** The newest installed version's bin folder, or undefined when PostgreSQL's server binaries are not installed. */
export function findPostgresBin(): string | undefined {
  if (!existsSync(ROOT)) return undefined;
  const versions = readdirSync(ROOT)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(ROOT, v, 'bin', 'initdb')) && existsSync(join(ROOT, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(ROOT, versions[0], 'bin') : undefined;
}

/** Why the fault suite cannot run here, or undefined when it can. */
export function privateClusterUnavailable(): string | undefined {
  if (!findPostgresBin()) return `no PostgreSQL server binaries under ${ROOT}/<version>/bin (Debian package postgresql)`;
  if (process.getuid?.() === 0 && spawnSync('id', ['postgres']).status !== 0) return 'running as root and there is no `postgres` user to run initdb as';
  return undefined;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export interface PrivateCluster {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database?: string): string;
  start(): Promise<void>;
  /** `pg_ctl stop -m immediate`: every backend dies at once, no shutdown checkpoint (a crash). */
  stop(): void;
  /** SIGSTOP the postmaster and all its children: connections stay open, nothing answers. */
  freeze(): void;
  thaw(): void;
  /** pg_terminate_backend on every other client backend, from a separate connection; returns how many. */
  terminateBackends(database?: string): Promise<number>;
  /** Thaws and stops (if running), then deletes the folder. Safe to call twice. */
  destroy(): void;
}

export async function startPrivateCluster(): Promise<PrivateCluster> {
  const bin = findPostgresBin();
  if (!bin) throw new Error(privateClusterUnavailable());
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'laundry-pg-'));
  const data = join(dir, 'data');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const run = (tool: string, args: string[]) => {
    const argv = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] as const : [join(bin, tool), args] as const;
    const r = spawnSync(argv[0], [...argv[1]], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  // Unix sockets in the cluster's own folder (the default /var/run/postgresql may not exist).
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c max_connections=50`;
  let running = false;
  let frozen = false;

  const postmasterPid = () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  /** The postmaster and every process it started (backends, checkpointer, walwriter…). */
  const processTree = () => {
    const root = postmasterPid();
    // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after the last ')'.
    const children = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === root;
        } catch {
          return false; // exited meanwhile
        }
      })
      .map(Number);
    return [root, ...children];
  };
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of processTree()) {
      try {
        process.kill(pid, sig);
      } catch {
        // a backend that exited between pgrep and kill
      }
    }
  };

  const cluster: PrivateCluster = {
    port,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
      running = true;
    },
    stop() {
      if (frozen) cluster.thaw();
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      running = false;
    },
    freeze() {
      signal('SIGSTOP');
      frozen = true;
    },
    thaw() {
      signal('SIGCONT');
      frozen = false;
    },
    async terminateBackends(database = 'postgres') {
      const admin = new pg.Client({ connectionString: cluster.url(database) });
      await admin.connect();
      try {
        const r = await admin.query(
          `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'`,
        );
        return r.rows.filter((row: { ok: boolean }) => row.ok).length;
      } finally {
        await admin.end();
      }
    },
    destroy() {
      try {
        if (frozen) cluster.thaw();
        if (running) cluster.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  try {
    await cluster.start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return cluster;
}
