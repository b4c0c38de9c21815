/**
 * Shared fixture of the backup tests (this file holds no tests): a command context
 * that records what is reported, and the seed schema of issue 5.
 */
import type { CommandContext } from "../lib/commands/command.ts";
import { defaultOptions, type Options } from "../lib/commands/options.ts";
import type { ProgressState, Reporter } from "../lib/progress/reporter.ts";
import { startServer, type ThrowawayServer } from "../scripts/throwaway_server.ts";

/**
 * A throwaway server with its own temporary directory: its internal temporary
 * tables (information_schema queries) then live where nothing else cleans up.
 */
export async function startBackupServer(): Promise<ThrowawayServer> {
  const tmpdir = await Deno.makeTempDir({ prefix: "ibvault-srvtmp-" });
  let srv: ThrowawayServer;
  try {
    srv = await startServer({ extraArgs: [`--tmpdir=${tmpdir}`] });
  } catch (err) {
    await Deno.remove(tmpdir, { recursive: true });
    throw err;
  }
  const stop = srv.stop.bind(srv);
  srv.stop = async (options) => {
    await stop(options);
    await Deno.remove(tmpdir, { recursive: true }).catch(() => {});
  };
  return srv;
}

/** A reporter that keeps every line; `onProgress` lets a test act mid-copy. */
export interface RecordingReporter extends Reporter {
  lines: string[];
  onProgress?: (s: ProgressState) => void;
}

/** A reporter that records lines instead of printing them. */
export function recordingReporter(): RecordingReporter {
  const r: RecordingReporter = {
    lines: [],
    info: (m) => void r.lines.push(`info: ${m}`),
    warn: (m) => void r.lines.push(`warn: ${m}`),
    error: (m) => void r.lines.push(`error: ${m}`),
    progress: (s) => r.onProgress?.(s),
    endProgress: () => {},
  };
  return r;
}

/** A context for running a command in-process against `srv`. */
export function contextFor(
  srv: ThrowawayServer,
  options: Partial<Options>,
  controller = new AbortController(),
): CommandContext & { report: RecordingReporter; json: unknown[] } {
  const json: unknown[] = [];
  return {
    options: { ...defaultOptions(2), socket: srv.socket, user: "root", ...options },
    args: [],
    report: recordingReporter(),
    signal: controller.signal,
    printJson: (v) => void json.push(v),
    json,
  };
}

/** The schema of issue 5: `àbc`, `à123`, `déf` in `db`, a table in `weird db`, and more. */
export async function seed(srv: ThrowawayServer): Promise<void> {
  await srv.query(
    "CREATE DATABASE db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;" +
      "CREATE DATABASE `weird db` CHARACTER SET latin1 COLLATE latin1_german1_ci;" +
      "CREATE DATABASE other;" +
      "CREATE TABLE db.`àbc` (id INT PRIMARY KEY, v VARCHAR(40) COLLATE utf8mb4_bin) ;" +
      "CREATE TABLE db.`à123` (id INT PRIMARY KEY, n BIGINT, KEY (n)) ROW_FORMAT=COMPRESSED;" +
      "CREATE TABLE db.`déf` (id INT PRIMARY KEY, t TEXT) ROW_FORMAT=REDUNDANT;" +
      "CREATE TABLE `weird db`.`t t` (id INT PRIMARY KEY, s VARCHAR(10)) ;" +
      "CREATE TABLE other.busy (id INT AUTO_INCREMENT PRIMARY KEY, v INT);" +
      "CREATE TABLE other.my (id INT) ENGINE=MyISAM;" +
      "CREATE VIEW other.v AS SELECT 1 AS one;" +
      "CREATE TABLE other.parts (id INT PRIMARY KEY) PARTITION BY HASH(id) PARTITIONS 3;",
  );
  for (let i = 0; i < 200; i++) {
    await srv.query(
      "INSERT INTO db.`àbc` VALUES (?, ?); INSERT INTO db.`à123` VALUES (?, ?);" +
        "INSERT INTO db.`déf` VALUES (?, REPEAT('x', 500)); INSERT INTO `weird db`.`t t` VALUES (?, 'é');" +
        "INSERT INTO other.parts VALUES (?)",
      [i, `value ${i}`, i, i * 1000, i, i, i],
    );
  }
}

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The files under `dir`, relative, sorted. */
export async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...await listFiles(`${dir}/${e.name}`, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** True when `table` (quoted) can be write-locked within two seconds: nobody holds a lock on it. */
export async function writable(srv: ThrowawayServer, table: string): Promise<boolean> {
  const conn = await srv.pool.getConnection();
  try {
    await conn.query("SET SESSION lock_wait_timeout = 2");
    await conn.query(`LOCK TABLES ${table} WRITE`);
    await conn.query("UNLOCK TABLES");
    return true;
  } catch {
    return false;
  } finally {
    conn.release();
  }
}
