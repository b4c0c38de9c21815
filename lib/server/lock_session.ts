/**
 * A lock session: one connection that takes `FLUSH TABLES ... FOR EXPORT` locks
 * and releases them with `UNLOCK TABLES`, with the server facts it works under.
 * It watches the connection: a connection lost while tables are locked means the
 * server dropped the lock, and {@link LockSession.check} says so as a
 * ConnectionLost. {@link LockSession.close} unlocks whatever is locked and is
 * safe on every path (errors, the abort signal, a consumer that stops early).
 */
import type { Connection } from "mysql2/promise";
import { ConnectionLost, ServerError } from "../errors.ts";
import type { ServerFacts } from "../core/manifest.ts";
import { tableLabel } from "../core/label.ts";
import { quoteTable } from "../names/quote.ts";
import { driverMessage, queryRows } from "./facts.ts";
import type { SelectedTable } from "./tables.ts";
import { isLockWaitTimeout, lockWaitError, setLockWaitTimeout } from "./lock_wait.ts";
import { isNoSuchTable, tablesGoneError } from "./lock_gone.ts";

/** How long tables were locked. */
export interface LockStats {
  /** Total milliseconds tables were locked (the sum over locks with --lock-per-table). */
  totalMs: number;
  /** The longest single lock. */
  longestMs: number;
  /** Number of FLUSH ... FOR EXPORT statements run. */
  locks: number;
}

/** Told on each lock and unlock, with the tables concerned and the lock's duration. */
export type LockListener = (
  event: "locked" | "unlocked",
  tables: SelectedTable[],
  ms: number,
) => void;

/** How help and log lines name the export lock statement. */
export const EXPORT_LOCK = "FLUSH TABLES ... FOR EXPORT";

/** The `FLUSH TABLES ... FOR EXPORT` statement for these tables (same on both flavours). */
export function flushForExportSql(tables: SelectedTable[]): string {
  return `FLUSH TABLES ${tables.map((t) => quoteTable(t.database, t.name)).join(", ")} FOR EXPORT`;
}

/** Up to three table labels, then a count. */
export function describeTables(tables: SelectedTable[]): string {
  const names = tables.map((t) => tableLabel(t.database, t.name));
  return names.length <= 3
    ? names.join(", ")
    : `${names.slice(0, 3).join(", ")} and ${names.length - 3} more`;
}

/** Locks tables on one connection; see the module documentation. */
export class LockSession {
  #locked: SelectedTable[] = [];
  #lockStart = 0;
  #flushing = false;
  #closed = false;
  #timeoutSet = false;
  #lost?: Error;
  readonly #stats: LockStats = { totalMs: 0, longestMs: 0, locks: 0 };
  readonly #onLost = (err?: unknown) => {
    this.#lost ??= err instanceof Error ? err : new Error("connection closed");
  };
  readonly #onAbort = () => void this.close();

  /**
   * Watch `conn` (nothing else may use it meanwhile); `facts` are the server's;
   * aborting `signal` unlocks at once.
   */
  constructor(
    readonly conn: Connection,
    readonly facts: ServerFacts,
    readonly opts: {
      signal?: AbortSignal;
      onLock?: LockListener;
      /** Seconds FLUSH ... FOR EXPORT may wait for a table (`lock_wait_timeout`). */
      lockWaitTimeout?: number;
    } = {},
  ) {
    conn.on("error", this.#onLost);
    conn.on("end", this.#onLost);
    opts.signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** The tables locked now. */
  get locked(): readonly SelectedTable[] {
    return this.#locked;
  }

  /** True once {@link close} ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Lock durations so far. */
  stats(): LockStats {
    return { ...this.#stats };
  }

  /**
   * Throw if the run must stop: the signal was aborted, or the connection was
   * lost while tables were locked (ConnectionLost: the copy is not consistent).
   */
  check(): void {
    this.opts.signal?.throwIfAborted();
    if (this.#lost && this.#locked.length > 0) {
      throw new ConnectionLost(
        `connection to the server lost while ${describeTables(this.#locked)} were locked ` +
          `(${this.#lost.message}): the server released the lock, so the copy is not consistent`,
      );
    }
  }

  /** After a failure while tables are locked: find out whether the connection is still there. */
  async probe(): Promise<void> {
    if (this.#lost || this.#locked.length === 0) return;
    try {
      await this.conn.query("DO 0");
    } catch (err) {
      this.#onLost(err);
    }
  }

  /** `FLUSH TABLES ... FOR EXPORT` these tables (nothing may be locked already). */
  async lock(tables: SelectedTable[]): Promise<void> {
    this.check();
    if (this.opts.lockWaitTimeout !== undefined && this.#stats.locks === 0 && !this.#timeoutSet) {
      await setLockWaitTimeout(this.conn, this.opts.lockWaitTimeout);
      this.#timeoutSet = true;
    }
    if (this.#closed) throw new ServerError("export stopped: tables were unlocked");
    this.#lockStart = performance.now();
    this.#locked = tables;
    this.#flushing = true;
    try {
      await queryRows(this.conn, flushForExportSql(tables));
    } catch (err) {
      this.#locked = [];
      if (isLockWaitTimeout(err)) {
        throw await lockWaitError(
          this.conn,
          describeTables(tables),
          this.opts.lockWaitTimeout ?? 0,
        );
      }
      if (isNoSuchTable(err)) throw await tablesGoneError(this.conn, tables, err);
      throw err;
    } finally {
      this.#flushing = false;
    }
    this.#stats.locks++;
    this.opts.onLock?.("locked", tables, 0);
  }

  /** `UNLOCK TABLES`; a failure (or a lost connection) means the copy is not consistent. */
  async unlock(): Promise<void> {
    if (this.#locked.length === 0) return;
    const tables = this.#locked;
    try {
      if (this.#lost) throw this.#lost;
      await queryRows(this.conn, "UNLOCK TABLES");
    } catch (err) {
      this.#locked = [];
      throw new ConnectionLost(
        `UNLOCK TABLES failed for ${describeTables(tables)} (${driverMessage(err)}): ` +
          `the lock was lost before the copy ended, so the copy is not consistent`,
        { cause: err },
      );
    }
    this.#locked = [];
    const ms = performance.now() - this.#lockStart;
    this.#stats.totalMs += ms;
    this.#stats.longestMs = Math.max(this.#stats.longestMs, ms);
    this.opts.onLock?.("unlocked", tables, ms);
  }

  /** Unlock if still locked and stop watching; idempotent, never throws. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.opts.signal?.removeEventListener("abort", this.#onAbort);
    try {
      // Still waiting for the lock (e.g. behind a long transaction): an UNLOCK would
      // queue behind the FLUSH, so drop the connection; the server releases all.
      if (this.#flushing) this.conn.destroy();
      else await this.unlock();
    } catch {
      // closing after a failure: the error that led here is what the user sees
    } finally {
      this.conn.off("error", this.#onLost);
      this.conn.off("end", this.#onLost);
    }
  }
}
