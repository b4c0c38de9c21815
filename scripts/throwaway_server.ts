/**
 * The one throwaway MariaDB harness shared by tests, the demo and benchmarks.
 *
 * Each call to {@link startServer} creates a fresh data directory with
 * `mariadb-install-db`, starts `mariadbd` on it with its own socket, pid file and
 * a free loopback port, waits until it accepts connections, and creates a
 * password-protected user for TCP tests. Several servers may run at once.
 *
 * Always stop the server, also when a test fails. Either let `await using`
 * do it:
 *
 * ```ts
 * await using srv = await startServer();
 * await srv.query("CREATE DATABASE d");
 * ```
 *
 * or use try/finally:
 *
 * ```ts
 * const srv = await startServer();
 * try {
 *   // ...
 * } finally {
 *   await srv.stop();
 * }
 * ```
 *
 * `stop({ keepDatadir: true })` shuts the server down cleanly and leaves its data
 * directory for offline checks; the caller then removes `srv.datadir`. `kill()`
 * sends SIGKILL (crash tests); a later `stop()` or dispose only cleans up. As a
 * last resort, servers still running when the process unloads are killed.
 */
import { createServer } from "node:net";
import mysql from "mysql2/promise";
import type { Pool } from "mysql2/promise";

/** How to build the throwaway server. */
export interface ServerOptions {
  /** `--innodb-checksum-algorithm` (default: the server's, full_crc32 on MariaDB 10.11). */
  checksumAlgorithm?: string;
  /** `--innodb-page-size` in bytes: 4096, 8192, 16384 (default), 32768 or 65536. */
  pageSize?: number;
  /** More `mariadbd` arguments, appended last (they win over the harness's own). */
  extraArgs?: string[];
  /** InnoDB arguments fixed when the data directory is made (e.g. `--innodb-undo-tablespaces=2`). */
  installArgs?: string[];
  /**
   * Start on this existing data directory instead of creating one (e.g. after
   * `kill()` + `stop({ keepDatadir: true })`, to test crash recovery). The
   * harness never removes a data directory it did not create. Pass the same
   * `pageSize` (and `checksumAlgorithm`) the directory was created with.
   */
  datadir?: string;
  /** Milliseconds to wait for the server to accept connections (default 60000). */
  startTimeoutMs?: number;
}

/** How to stop the server. */
export interface StopOptions {
  /** Leave the data directory on disk; the caller removes it afterwards. */
  keepDatadir?: boolean;
}

/** A running throwaway server and what tests need to reach it. */
export interface ThrowawayServer extends AsyncDisposable {
  /** Data directory (absolute path). */
  readonly datadir: string;
  /** Unix socket path (root may connect here without a password). */
  readonly socket: string;
  /** TCP port on 127.0.0.1. */
  readonly port: number;
  /** User with all privileges, for TCP connections (`'user'@'%'`). */
  readonly user: string;
  /** Password of {@link user}. */
  readonly password: string;
  /** Pool connected over the socket as root (multipleStatements, utf8mb4). */
  readonly pool: Pool;
  /** The server's error log file. */
  readonly errorLog: string;
  /** Process id of mariadbd. */
  readonly pid: number;
  /** Run one statement (or several: multipleStatements is on) and return its rows. */
  query<T = unknown>(sql: string, params?: unknown[]): Promise<T>;
  /** Shut down cleanly and remove the temporary directories. Safe to call twice. */
  stop(options?: StopOptions): Promise<void>;
  /** SIGKILL the server (a crash); files stay until `stop()`/dispose. */
  kill(): Promise<void>;
}

const MARIADBD = "/usr/sbin/mariadbd";
const INSTALL_DB = "mariadb-install-db";
const TCP_USER = "ibvault_test";
/** Unix socket paths longer than this do not fit in sockaddr_un. */
const MAX_SOCKET_PATH = 100;

/** Servers not yet stopped, killed on unload so a failing test leaves no process behind. */
const live = new Set<Deno.ChildProcess>();
let unloadHooked = false;

/** A free TCP port on the loopback interface, found by binding port 0. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => port ? resolve(port) : reject(new Error("no port assigned")));
    });
  });
}

/** Start a fresh throwaway MariaDB server; see the module documentation for cleanup. */
export async function startServer(opts: ServerOptions = {}): Promise<ThrowawayServer> {
  hookUnload();
  const rundir = await shortTempDir("ibvault-run-");
  const ownDatadir = opts.datadir === undefined;
  let datadir = opts.datadir ?? "";
  try {
    if (ownDatadir) datadir = await shortTempDir("ibvault-data-");
    const innodbArgs = innodbOptions(opts);
    if (ownDatadir) await installDb(datadir, rundir, innodbArgs);
    const port = await freePort();
    const socket = `${rundir}/mysqld.sock`;
    const errorLog = `${rundir}/error.log`;
    const args = [
      "--no-defaults",
      "--user=root",
      `--datadir=${datadir}`,
      `--socket=${socket}`,
      `--tmpdir=${rundir}`,
      `--pid-file=${rundir}/mysqld.pid`,
      `--log-error=${errorLog}`,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      "--skip-name-resolve",
      "--skip-log-bin",
      "--character-set-server=utf8mb4",
      "--collation-server=utf8mb4_general_ci",
      "--innodb-flush-log-at-trx-commit=2",
      "--innodb-use-native-aio=0",
      "--max-connections=200",
      ...innodbArgs,
      ...(opts.extraArgs ?? []),
    ];
    const child = new Deno.Command(MARIADBD, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    live.add(child);
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      live.delete(child);
      return s;
    });
    try {
      await waitReady(socket, () => exited, errorLog, opts.startTimeoutMs ?? 60_000);
    } catch (err) {
      if (!exited) child.kill("SIGKILL");
      await status;
      throw err;
    }
    const pool = mysql.createPool({
      socketPath: socket,
      user: "root",
      multipleStatements: true,
      charset: "utf8mb4",
      connectionLimit: 8,
      maxIdle: 0,
      idleTimeout: 1000,
    });
    const password = `pw-${crypto.randomUUID().slice(0, 8)}`;
    const server = makeServer({
      child,
      status,
      isExited: () => exited,
      pool,
      datadir,
      ownDatadir,
      rundir,
      socket,
      port,
      errorLog,
      password,
    });
    try {
      await pool.query(
        `CREATE USER IF NOT EXISTS '${TCP_USER}'@'%' IDENTIFIED BY '${password}';` +
          `ALTER USER '${TCP_USER}'@'%' IDENTIFIED BY '${password}';` +
          `GRANT ALL PRIVILEGES ON *.* TO '${TCP_USER}'@'%' WITH GRANT OPTION`,
      );
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  } catch (err) {
    await removeQuietly(rundir);
    if (ownDatadir && datadir) await removeQuietly(datadir);
    throw err;
  }
}

interface Parts {
  child: Deno.ChildProcess;
  status: Promise<Deno.CommandStatus>;
  isExited: () => boolean;
  pool: Pool;
  datadir: string;
  ownDatadir: boolean;
  rundir: string;
  socket: string;
  port: number;
  errorLog: string;
  password: string;
}

function makeServer(p: Parts): ThrowawayServer {
  let stopped = false;
  let poolEnded = false;
  const endPool = async () => {
    if (poolEnded) return;
    poolEnded = true;
    await p.pool.end().catch(() => {});
  };
  const server: ThrowawayServer = {
    datadir: p.datadir,
    socket: p.socket,
    port: p.port,
    user: TCP_USER,
    password: p.password,
    pool: p.pool,
    errorLog: p.errorLog,
    pid: p.child.pid,
    async query<T>(sql: string, params?: unknown[]): Promise<T> {
      const [rows] = await p.pool.query(sql, params);
      return rows as T;
    },
    async stop(options: StopOptions = {}) {
      if (stopped) return;
      stopped = true;
      await endPool();
      if (!p.isExited()) {
        p.child.kill("SIGTERM");
        const timer = setTimeout(() => {
          if (!p.isExited()) p.child.kill("SIGKILL");
        }, 60_000);
        await p.status;
        clearTimeout(timer);
      }
      await removeQuietly(p.rundir);
      if (p.ownDatadir && !options.keepDatadir) await removeQuietly(p.datadir);
    },
    async kill() {
      await endPool();
      if (!p.isExited()) p.child.kill("SIGKILL");
      await p.status;
    },
    [Symbol.asyncDispose]() {
      return server.stop();
    },
  };
  return server;
}

/** The InnoDB options that must agree between install and every start. */
function innodbOptions(opts: ServerOptions): string[] {
  const pageSize = opts.pageSize ?? 16384;
  if (![4096, 8192, 16384, 32768, 65536].includes(pageSize)) {
    throw new Error(`pageSize ${pageSize}: use 4096, 8192, 16384, 32768 or 65536`);
  }
  const args = [
    `--innodb-page-size=${pageSize}`,
    `--innodb-buffer-pool-size=${pageSize > 16384 ? "64M" : "32M"}`,
    "--innodb-log-file-size=16M",
  ];
  if (opts.checksumAlgorithm) args.push(`--innodb-checksum-algorithm=${opts.checksumAlgorithm}`);
  args.push(...(opts.installArgs ?? []));
  return args;
}

async function installDb(datadir: string, rundir: string, innodbArgs: string[]): Promise<void> {
  const out = await new Deno.Command(INSTALL_DB, {
    args: [
      "--no-defaults",
      "--auth-root-authentication-method=normal",
      "--user=root",
      "--skip-test-db",
      `--datadir=${datadir}`,
      `--socket=${rundir}/install.sock`,
      `--tmpdir=${rundir}`,
      ...innodbArgs,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    throw new Error(`mariadb-install-db failed (exit ${out.code}):\n${tail(text, 40)}`);
  }
}

async function waitReady(
  socket: string,
  isExited: () => boolean,
  errorLog: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  while (true) {
    if (isExited()) {
      throw new Error(`mariadbd exited during startup; error log:\n${await readTail(errorLog)}`);
    }
    try {
      const conn = await mysql.createConnection({ socketPath: socket, user: "root" });
      await conn.end();
      return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `mariadbd did not accept connections within ${timeoutMs} ms (${lastError}); ` +
          `error log:\n${await readTail(errorLog)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A temporary directory whose path leaves room for a socket name. */
async function shortTempDir(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  if (dir.length + 16 <= MAX_SOCKET_PATH) return dir;
  await Deno.remove(dir);
  return await Deno.makeTempDir({ prefix, dir: "/tmp" });
}

async function readTail(path: string): Promise<string> {
  try {
    return tail(await Deno.readTextFile(path), 30);
  } catch {
    return "(no error log)";
  }
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

function hookUnload(): void {
  if (unloadHooked) return;
  unloadHooked = true;
  globalThis.addEventListener("unload", () => {
    for (const child of live) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}
