/** What the engine benchmarks share: filling tables, timing a pipeline, mariadb-backup's lock. */
import { existsSync } from "node:fs";
import type { ThrowawayServer } from "./throwaway_server.ts";

/**
 * How a bench runs ibvault: the shipped binary (dist/ibvault, what a DBA runs) when it
 * is built, else cli.ts under Deno (also with IBVAULT_BENCH_DENO=1). `label` says which.
 */
export function ibvaultCommand(): { command: string; label: string } {
  const binary = new URL("../dist/ibvault", import.meta.url).pathname;
  if (Deno.env.get("IBVAULT_BENCH_DENO") !== "1" && existsSync(binary)) {
    return { command: binary, label: "dist/ibvault" };
  }
  const deno = new URL("../node_modules/deno/deno", import.meta.url).pathname;
  const config = new URL("../deno.json", import.meta.url).pathname;
  const cli = new URL("../cli.ts", import.meta.url).pathname;
  return { command: `${deno} run -A --config ${config} ${cli}`, label: "cli.ts under Deno" };
}

/** Fill `bench.t1..tN` with about `mb` MiB; returns the MiB of .ibd files made. */
export async function fillBench(srv: ThrowawayServer, mb: number, tables: number): Promise<number> {
  await srv.query("CREATE DATABASE bench");
  const rowsPerTable = Math.ceil((mb * 1024 * 1024) / tables / 320);
  await srv.query(
    "CREATE TABLE bench.t1 (id BIGINT AUTO_INCREMENT PRIMARY KEY, a CHAR(32), " +
      "b VARCHAR(200), n BIGINT, KEY (n))",
  );
  await srv.query(
    "INSERT INTO bench.t1 (a, b, n) SELECT MD5(seq), REPEAT(CONCAT('row ', seq % 97, ' '), 20), " +
      "FLOOR(RAND() * 1e12) FROM bench.seq_1_to_1000",
  );
  let rows = 1000;
  while (rows < rowsPerTable) {
    const add = Math.min(rows, rowsPerTable - rows);
    await srv.query(
      `INSERT INTO bench.t1 (a, b, n) SELECT MD5(RAND()), b, FLOOR(RAND() * 1e12) FROM bench.t1 LIMIT ${add}`,
    );
    rows += add;
  }
  for (let i = 2; i <= tables; i++) {
    await srv.query(
      `CREATE TABLE bench.t${i} LIKE bench.t1; INSERT INTO bench.t${i} SELECT * FROM bench.t1`,
    );
  }
  await srv.query("FLUSH TABLES");
  await settle(srv);
  let bytes = 0;
  for await (const e of Deno.readDir(`${srv.datadir}/bench`)) {
    if (e.name.endsWith(".ibd")) bytes += (await Deno.stat(`${srv.datadir}/bench/${e.name}`)).size;
  }
  return Math.round(bytes / 1048576);
}

/** Run a bash pipeline (pipefail); wall seconds and its stderr. */
export async function timed(script: string): Promise<{ seconds: number; stderr: string }> {
  const start = performance.now();
  const out = await new Deno.Command("bash", {
    args: ["-o", "pipefail", "-c", script],
    stdout: "null",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - start) / 1000;
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`failed (exit ${out.code}): ${script}\n${stderr.slice(-3000)}`);
  return { seconds, stderr };
}

/**
 * mariadb-backup's lock windows from its log (1 s resolution), in seconds: DDL blocked from
 * "Started BACKUP STAGE BLOCK_DDL", commits from "Starting BACKUP STAGE BLOCK_COMMIT", both
 * to "All tables unlocked".
 */
export function mariabackupLock(log: string): { ddl?: number; commit?: number } {
  const stamp = (re: RegExp) => {
    const line = log.split("\n").find((l) => re.test(l));
    const m = line && /(\d{4}-\d\d-\d\d) +(\d\d?:\d\d:\d\d)/.exec(line);
    return m ? Date.parse(`${m[1]}T${m[2].padStart(8, "0")}Z`) : undefined;
  };
  const end = stamp(/All tables unlocked/);
  const secs = (from?: number) =>
    from !== undefined && end !== undefined ? (end - from) / 1000 : undefined;
  return {
    ddl: secs(stamp(/Started BACKUP STAGE BLOCK_DDL/)),
    commit: secs(stamp(/Starting BACKUP STAGE BLOCK_COMMIT/)),
  };
}

/**
 * Let the checkpoint catch up with the data just written (dirty pages flushed, checkpoint
 * age near zero), as on a server whose bulk load is not minutes old: otherwise every page is
 * newer than the checkpoint and minimum locking takes it all again under the lock.
 */
export async function settle(srv: ThrowawayServer): Promise<void> {
  await srv.query("SET GLOBAL innodb_max_dirty_pages_pct = 0");
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const rows = await srv.query<{ Variable_name: string; Value: string }[]>(
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_checkpoint_age', 'Innodb_buffer_pool_pages_dirty')",
    );
    const v = new Map(rows.map((r) => [r.Variable_name.toLowerCase(), Number(r.Value)]));
    if (
      (v.get("innodb_checkpoint_age") ?? 0) < 1 << 20 &&
      (v.get("innodb_buffer_pool_pages_dirty") ?? 0) === 0
    ) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await srv.query("SET GLOBAL innodb_max_dirty_pages_pct = 90");
}
