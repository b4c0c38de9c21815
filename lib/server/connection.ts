/**
 * Connecting to the server with mysql2, from the connection options, with
 * failures turned into one clear ServerError line (never showing the password).
 */
import { stat } from "node:fs/promises";
import { userInfo } from "node:os";
import type { Connection, ConnectionOptions } from "mysql2/promise";
import { ServerError } from "../errors.ts";

/** Where the local server's socket usually is, tried in order when no host, port or socket is given. */
export const DEFAULT_SOCKETS = [
  "/run/mysqld/mysqld.sock",
  "/var/run/mysqld/mysqld.sock",
  "/tmp/mysql.sock",
];

/** Where and as whom to connect (the connection options of the command line). */
export interface ConnectOptions {
  user?: string;
  password?: string;
  host?: string;
  port?: number;
  socket?: string;
}

/** Where a connection goes: a Unix socket or a TCP host and port. */
export type Endpoint = { socket: string } | { host: string; port: number };

/**
 * Decide where to connect: `--socket` wins; else `--host`/`--port` over TCP
 * (host 127.0.0.1 and port 3306 when one is missing); else the first existing
 * socket of {@link DEFAULT_SOCKETS}. Throws ServerError when none exists.
 */
export async function resolveEndpoint(options: ConnectOptions): Promise<Endpoint> {
  if (options.socket) return { socket: options.socket };
  if (options.host !== undefined || options.port !== undefined) {
    return { host: options.host || "127.0.0.1", port: options.port ?? 3306 };
  }
  for (const socket of DEFAULT_SOCKETS) {
    try {
      if ((await stat(socket)).isSocket()) return { socket };
    } catch {
      // not there: try the next one
    }
  }
  throw new ServerError(
    `cannot connect to the local server: no server is listening (no socket at ` +
      `${DEFAULT_SOCKETS.join(", ")}; give --socket, or --host and --port)`,
  );
}

/** Describe an endpoint for messages: `socket /run/mysqld/mysqld.sock` or `db.example:3306`. */
export function describeEndpoint(endpoint: Endpoint): string {
  return "socket" in endpoint ? `socket ${endpoint.socket}` : `${endpoint.host}:${endpoint.port}`;
}

/**
 * Open a mysql2 connection from the connection options (charset utf8mb4; the
 * user defaults to the login name, as in MySQL clients). `extra` adds mysql2
 * options (e.g. `multipleStatements`). Any failure is a ServerError with one
 * line: "cannot connect to <where>: access denied for user 'x' (check
 * --user/--password or the option file)", "...: no server is listening", and so
 * on; the password never appears in it.
 */
export async function connect(
  options: ConnectOptions,
  extra: Partial<ConnectionOptions> = {},
): Promise<Connection> {
  const endpoint = await resolveEndpoint(options);
  const user = options.user ?? loginName();
  const config: ConnectionOptions = {
    ...extra,
    user,
    password: options.password,
    charset: "utf8mb4",
    connectTimeout: extra.connectTimeout ?? 10_000,
    ...("socket" in endpoint
      ? { socketPath: endpoint.socket }
      : { host: endpoint.host, port: endpoint.port }),
  };
  try {
    // Loaded here, not at start-up: the driver is a third of the program's
    // start-up time, and commands that read files never need it.
    const { default: mysql } = await import("mysql2/promise");
    return await mysql.createConnection(config);
  } catch (err) {
    throw connectError(err, describeEndpoint(endpoint), user, options.password);
  }
}

function loginName(): string {
  try {
    return userInfo().username;
  } catch {
    return "";
  }
}

/**
 * Turn a mysql2 connection failure into a one-line ServerError naming where and
 * why; `password`, if given, is masked should the text contain it.
 */
export function connectError(
  err: unknown,
  where: string,
  user: string,
  password?: string,
): ServerError {
  const e = err as { code?: string; errno?: number; message?: string };
  let why: string;
  switch (e?.code) {
    case "ER_ACCESS_DENIED_ERROR":
    case "ER_ACCESS_DENIED_NO_PASSWORD_ERROR":
    case "ER_DBACCESS_DENIED_ERROR":
      why = `access denied for user '${user}' (check --user/--password or the option file)`;
      break;
    case "ER_HOST_NOT_PRIVILEGED":
      why = `user '${user}' may not connect from this host`;
      break;
    case "ECONNREFUSED":
    case "ENOENT":
      why = "no server is listening";
      break;
    case "EACCES":
      why = "permission denied on the socket";
      break;
    case "ETIMEDOUT":
      why = "the connection timed out";
      break;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      why = "unknown host";
      break;
    case "ER_CON_COUNT_ERROR":
      why = "the server has too many connections";
      break;
    default:
      why = firstLine(e?.message ?? String(err));
  }
  let message = `cannot connect to ${where}: ${why}`;
  if (password) message = message.replaceAll(password, "***");
  return new ServerError(message);
}

function firstLine(text: string): string {
  return text.split("\n")[0].trim() || "unknown error";
}

/** Close a connection, ignoring errors (it may already be gone). */
export async function endQuietly(conn: Connection): Promise<void> {
  try {
    await conn.end();
  } catch {
    conn.destroy();
  }
}
