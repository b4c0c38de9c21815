/**
 * The page-LSN export against a real MariaDB: the flush race (pages dirty when the
 * hot pass starts and flushed while it runs), a writer keeping an invariant through
 * the backup, and the rebuilt file equal page for page to the file under the lock.
 */
import assert from "node:assert/strict";
import { open } from "node:fs/promises";
import mysql from "mysql2/promise";
import type { Connection } from "mysql2/promise";
import { startServer, type ThrowawayServer } from "../scripts/throwaway_server.ts";
import {
  type Locker,
  openPageLsnExport,
  type PageLsnResult,
} from "../lib/server/page_lsn_export.ts";
import { flushForExportSql } from "../lib/server/lock_session.ts";
import type { SelectedTable } from "../lib/server/tables.ts";
import { writeRebuilding } from "../lib/delta/dir_sink.ts";
import { parseAlgorithm } from "../lib/innodb/algorithm.ts";
import { pageLsn } from "../lib/innodb/page_lsn.ts";
import { readServerLsns } from "../lib/server/lsn.ts";
import type { FileEntry } from "../lib/entry.ts";
import { IoError } from "../lib/errors.ts";
import { purged } from "./fixtures/server.ts";

const table = (database: string, name: string): SelectedTable => ({
  database,
  name,
  engine: "InnoDB",
  createOptions: "",
  partitions: [],
  stems: [`${database}/${name}`],
});

function connect(srv: ThrowawayServer): Promise<Connection> {
  return mysql.createConnection({ socketPath: srv.socket, user: "root", multipleStatements: true });
}

/** A locker that runs `underLock` after the tables are flushed and before it unlocks. */
function locker(conn: Connection, underLock?: () => Promise<void>): Locker {
  return {
    lock: async (t) => void (await conn.query(flushForExportSql(t))),
    unlock: async () => {
      try {
        await underLock?.();
      } finally {
        await conn.query("UNLOCK TABLES");
      }
    },
  };
}

/** Back up `tables` into `dir` through the page-LSN export, applying deltas in place. */
async function backupTo(
  srv: ThrowawayServer,
  tables: SelectedTable[],
  dir: string,
  extra: {
    underLock?: () => Promise<void>;
    beforeLock?: () => Promise<void>;
    slowHot?: (entry: FileEntry, chunk: number) => Promise<void>;
  } = {},
): Promise<PageLsnResult> {
  const conn = await connect(srv);
  try {
    const exp = await openPageLsnExport({
      conn,
      flavor: "mariadb",
      datadir: srv.datadir,
      tables,
      locker: locker(conn, extra.underLock),
      spoolDir: dir,
      algorithm: parseAlgorithm("full_crc32"),
      chunkSize: 256 << 10,
      beforeLock: extra.beforeLock,
    });
    try {
      const entries = (async function* () {
        for await (const e of exp.entries) {
          if (!extra.slowHot || e.path.endsWith(".delta") || e.path.endsWith(".cfg")) {
            yield e;
            continue;
          }
          const inner = e.data;
          yield {
            ...e,
            data: (async function* () {
              let i = 0;
              for await (const c of inner) {
                yield c;
                await extra.slowHot!(e, i++);
              }
            })(),
          };
        }
      })();
      await writeRebuilding(dir, entries);
      return exp.result();
    } finally {
      await exp.close();
    }
  } finally {
    await conn.end();
  }
}

/** Import `db/name` from a backup directory as `restored.name`; returns CHECKSUM TABLE. */
async function importAs(srv: ThrowawayServer, dir: string, db: string, name: string) {
  await srv.query(
    `CREATE DATABASE IF NOT EXISTS restored; DROP TABLE IF EXISTS restored.${name};` +
      `CREATE TABLE restored.${name} LIKE ${db}.${name}; ALTER TABLE restored.${name} DISCARD TABLESPACE`,
  );
  for (const ext of ["ibd", "cfg"]) {
    await Deno.copyFile(`${dir}/${db}/${name}.${ext}`, `${srv.datadir}/restored/${name}.${ext}`);
  }
  await srv.query(`ALTER TABLE restored.${name} IMPORT TABLESPACE`);
  const check = await srv.query<{ Msg_text: string }[]>(`CHECK TABLE restored.${name} EXTENDED`);
  assert.equal(check.at(-1)!.Msg_text, "OK", `CHECK TABLE restored.${name}`);
  return await checksum(srv, `restored.${name}`);
}

async function checksum(srv: ThrowawayServer, t: string): Promise<string> {
  const r = await srv.query<{ Checksum: string }[]>(`CHECKSUM TABLE ${t}`);
  return String(r[0].Checksum);
}

async function fill(srv: ThrowawayServer, t: string, rows: number, opts = ""): Promise<void> {
  await srv.query(
    `CREATE TABLE ${t} (id INT PRIMARY KEY, n INT, pad VARCHAR(200), KEY (n)) ${opts};` +
      `INSERT INTO ${t} SELECT seq, seq % 1000, REPEAT(CHAR(65 + seq % 26), 150) FROM test.seq_1_to_${rows}`,
  );
}

Deno.test("flush race: pages dirty at the hot start and flushed during it are in the delta", async () => {
  await using srv = await startServer({
    extraArgs: [
      "--innodb-buffer-pool-size=128M",
      "--innodb-max-dirty-pages-pct=99",
      "--innodb-max-dirty-pages-pct-lwm=0",
      "--innodb-adaptive-flushing=OFF",
      "--innodb-io-capacity=100",
      "--innodb-log-file-size=256M",
    ],
  });
  await srv.query("CREATE DATABASE d; CREATE DATABASE IF NOT EXISTS test");
  await fill(srv, "d.t", 60000);
  // the old state on disk, then every page dirty in memory only
  await srv.query(
    "FLUSH TABLES d.t FOR EXPORT; UNLOCK TABLES; SET GLOBAL innodb_max_dirty_pages_pct=99",
  );
  await srv.query("UPDATE d.t SET n = n + 1, pad = REVERSE(pad)");
  const expected = await checksum(srv, "d.t");
  const conn = await connect(srv);
  const { current: currentAtStart } = await readServerLsns(conn, "mariadb");
  await conn.end();
  const dir = await Deno.makeTempDir();
  try {
    let hotPath = "";
    const r = await backupTo(srv, [table("d", "t")], dir, {
      slowHot: async (e, i) => {
        if (i === 0) {
          // flush everything while the hot pass runs
          await srv.query("SET GLOBAL innodb_max_dirty_pages_pct=0");
          hotPath = e.path;
        }
        await new Promise((res) => setTimeout(res, 15));
      },
    });
    assert.equal(hotPath, "d/t.ibd");
    const ts = r.tablespaces[0];
    assert.ok(r.startLsn < currentAtStart, "the checkpoint lagged behind the current LSN");
    assert.ok(ts.replacedPages! > 50, `replaced ${ts.replacedPages} pages`);
    // pages the delta carries whose LSN is below the current LSN at the start: a
    // threshold at the current LSN would have missed them
    const fh = await open(`${dir}/d/t.ibd`, "r");
    const page = new Uint8Array(ts.pageSize);
    let belowCurrent = 0;
    for (let p = 0; p < ts.size / ts.pageSize; p++) {
      await fh.read(page, 0, page.length, p * ts.pageSize);
      const lsn = pageLsn(page, 0);
      if (lsn >= r.startLsn && lsn < currentAtStart) belowCurrent++;
    }
    await fh.close();
    assert.ok(belowCurrent > 50, `${belowCurrent} pages changed between checkpoint and start`);
    assert.equal(await importAs(srv, dir, "d", "t"), expected);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pages the hot pass read intact are not taken again under the lock unless they moved", async () => {
  await using srv = await startServer();
  await srv.query("CREATE DATABASE d; CREATE DATABASE IF NOT EXISTS test");
  await fill(srv, "d.t", 30000);
  await srv.query("FLUSH TABLES d.t FOR EXPORT; UNLOCK TABLES");
  const dir = await Deno.makeTempDir();
  try {
    let moved = 0;
    const r = await backupTo(srv, [table("d", "t")], dir, {
      // Once the start LSN is taken and the first chunk read, every page is
      // rewritten and flushed: the rest of the hot pass reads them intact with an
      // LSN above the start LSN, as after any busy hour. (Done before the backup,
      // a checkpoint could overtake them first on a loaded machine.)
      slowHot: async (_e, i) => {
        if (i !== 0) return;
        await srv.query("UPDATE d.t SET n = n + 1, pad = REVERSE(pad)");
        await purged(srv);
        await srv.query("FLUSH TABLES d.t FOR EXPORT; UNLOCK TABLES");
      },
      // after the hot pass, a few rows change: their pages must be taken again
      beforeLock: async () => {
        await srv.query("UPDATE d.t SET n = n + 1 WHERE id BETWEEN 100 AND 130");
        await srv.query("FLUSH TABLES d.t FOR EXPORT; UNLOCK TABLES");
        moved = 1;
      },
    });
    assert.equal(moved, 1);
    const ts = r.tablespaces[0];
    const pages = ts.size / ts.pageSize;
    // every page at or above the start LSN was either left out or taken
    const file = await Deno.readFile(`${dir}/d/t.ibd`);
    let above = 0;
    for (let p = 0; p < pages; p++) if (pageLsn(file, p * ts.pageSize) >= r.startLsn) above++;
    assert.ok(above > 200, `${above} pages above the start LSN`);
    assert.ok(ts.unchangedPages! + ts.deltaPages! >= above);
    assert.ok(ts.unchangedPages! > above * 0.9, `${ts.unchangedPages} of ${above} left out`);
    assert.ok(ts.deltaPages! < 40, `the delta took ${ts.deltaPages} of ${pages} pages`);
    assert.ok(ts.replacedPages! >= 2, "the pages the late update moved are in the delta");
    assert.equal(await importAs(srv, dir, "d", "t"), await checksum(srv, "d.t"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a table dropped during the hot pass, before its file is read: named, never locked", async () => {
  await using srv = await startServer();
  await srv.query("CREATE DATABASE d; CREATE DATABASE IF NOT EXISTS test");
  await fill(srv, "d.a", 20000);
  await fill(srv, "d.b", 1000);
  const dir = await Deno.makeTempDir();
  let reachedLock = false;
  try {
    await assert.rejects(
      backupTo(srv, [table("d", "a"), table("d", "b")], dir, {
        // while a's hot copy is read, b goes
        slowHot: async (_e, i) => {
          if (i === 0) await srv.query("DROP TABLE d.b");
        },
        beforeLock: () => Promise.resolve(void (reachedLock = true)),
      }),
      (err: Error) =>
        err instanceof IoError &&
        /^d\.b: its file .*d\/b\.ibd is gone: dropped or renamed during the backup/.test(
          err.message,
        ),
    );
    assert.equal(reachedLock, false, "it stopped before locking anything");
    await srv.query("SET SESSION lock_wait_timeout = 2; UPDATE d.a SET n = n WHERE id = 1");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Stop-able writer keeping invariants: transfers (sum constant), inserts, deletes. */
function startWriter(srv: ThrowawayServer, db: string) {
  let stop = false;
  let ops = 0;
  let failed: unknown;
  const done = (async () => {
    const conn = await connect(srv);
    try {
      let i = 0;
      while (!stop) {
        i++;
        const a = (i * 7919) % 2000 + 1;
        const b = (i * 104729) % 2000 + 1;
        try {
          await conn.query(
            `START TRANSACTION; UPDATE ${db}.acct SET bal = bal - 3 WHERE id = ${a};` +
              `UPDATE ${db}.acct SET bal = bal + 3 WHERE id = ${b};` +
              `INSERT INTO ${db}.log (v, pad) VALUES (${i}, REPEAT('x', 300));` +
              `DELETE FROM ${db}.log WHERE id % 5 = 0 AND id < (SELECT * FROM (SELECT MAX(id) - 50 FROM ${db}.log) m) LIMIT 2;` +
              `COMMIT`,
          );
          ops++;
        } catch (err) {
          // a statement blocked by the lock and interrupted is fine; anything else is not
          failed ??= err;
          await conn.query("ROLLBACK").catch(() => {});
        }
      }
    } finally {
      await conn.end();
    }
  })();
  return {
    get ops() {
      return ops;
    },
    async stop() {
      stop = true;
      await done;
      if (failed) throw failed;
    },
  };
}

async function seedBank(srv: ThrowawayServer, db: string, opts = ""): Promise<void> {
  await srv.query(
    `CREATE DATABASE IF NOT EXISTS test; CREATE DATABASE ${db};` +
      `CREATE TABLE ${db}.acct (id INT PRIMARY KEY, bal BIGINT NOT NULL, pad CHAR(200)) ${opts};` +
      `INSERT INTO ${db}.acct SELECT seq, 1000, 'p' FROM test.seq_1_to_2000;` +
      `CREATE TABLE ${db}.log (id INT AUTO_INCREMENT PRIMARY KEY, v INT, pad VARCHAR(400), KEY (v)) ${opts};` +
      `INSERT INTO ${db}.log (v, pad) SELECT seq, REPEAT('y', 300) FROM test.seq_1_to_20000`,
  );
}

async function comparePages(
  a: string,
  b: string,
  pageSize: number,
  ignore: Set<number> = new Set(),
) {
  const x = await Deno.readFile(a);
  const y = await Deno.readFile(b);
  assert.equal(x.length, y.length, `${a}: size`);
  const diff: number[] = [];
  for (let p = 0; p < x.length / pageSize; p++) {
    if (ignore.has(p)) continue;
    const o = p * pageSize;
    for (let i = o; i < o + pageSize; i++) {
      if (x[i] !== y[i]) {
        diff.push(p);
        break;
      }
    }
  }
  return diff;
}

Deno.test("a writer through the whole backup: restored tables pass CHECK TABLE EXTENDED, the total holds", async () => {
  await using srv = await startServer();
  await seedBank(srv, "bank");
  const writer = startWriter(srv, "bank");
  const dir = await Deno.makeTempDir();
  let totalAtLock = "";
  try {
    await new Promise((r) => setTimeout(r, 300));
    await backupTo(srv, [table("bank", "acct"), table("bank", "log")], dir, {
      slowHot: () => new Promise((r) => setTimeout(r, 10)),
      underLock: async () => {
        const r = await srv.query<{ s: string; n: number }[]>(
          "SELECT (SELECT SUM(bal) FROM bank.acct) AS s, (SELECT COUNT(*) FROM bank.log) AS n",
        );
        totalAtLock = `${r[0].s}/${r[0].n}`;
      },
    });
    await writer.stop();
    assert.ok(writer.ops > 20, `writer ran ${writer.ops} transactions`);
    await importAs(srv, dir, "bank", "acct");
    await importAs(srv, dir, "bank", "log");
    const r = await srv.query<{ s: string; n: number }[]>(
      "SELECT (SELECT SUM(bal) FROM restored.acct) AS s, (SELECT COUNT(*) FROM restored.log) AS n",
    );
    assert.equal(String(r[0].s), "2000000");
    assert.equal(`${r[0].s}/${r[0].n}`, totalAtLock);
  } finally {
    await writer.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Writer stopped at the pause point: the rebuilt files equal the files on disk under
 * the lock, page for page, for every row format (page_compressed: freed pages aside).
 */
async function samePagesAsUnderLock(
  srv: ThrowawayServer,
  db: string,
  names: string[],
  compressed: string[] = [],
) {
  const writer = startWriter(srv, db);
  const dir = await Deno.makeTempDir();
  const underLock = await Deno.makeTempDir();
  try {
    await new Promise((r) => setTimeout(r, 200));
    const r = await backupTo(srv, names.map((n) => table(db, n)), dir, {
      slowHot: () => new Promise((r) => setTimeout(r, 5)),
      beforeLock: () => writer.stop(),
      underLock: async () => {
        for (const n of names) {
          await Deno.copyFile(`${srv.datadir}/${db}/${n}.ibd`, `${underLock}/${n}.ibd`);
        }
      },
    });
    for (const n of names) {
      const ts = r.tablespaces.find((t) => t.file === `${db}/${n}.ibd`)!;
      const diff = await comparePages(
        `${dir}/${db}/${n}.ibd`,
        `${underLock}/${n}.ibd`,
        ts.pageSize,
      );
      if (compressed.includes(n)) assert.ok(diff.length <= 8, `${n}: ${diff.length} pages differ`);
      else assert.deepEqual(diff, [], `${n}: pages differ from the file under the lock`);
      await importAs(srv, dir, db, n);
    }
    return r;
  } finally {
    await writer.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(underLock, { recursive: true });
  }
}

Deno.test("rebuilt == file under the lock, page for page: DYNAMIC, COMPRESSED 1/2/4/8 KiB, PAGE_COMPRESSED", async () => {
  await using srv = await startServer();
  await seedBank(srv, "bank");
  const names = ["acct", "log"];
  for (const kbs of [1, 2, 4, 8]) {
    await srv.query(
      `CREATE TABLE bank.z${kbs} (id INT PRIMARY KEY, v VARCHAR(300), KEY (v(20))) ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=${kbs};` +
        `INSERT INTO bank.z${kbs} SELECT seq, REPEAT(MD5(seq), 6) FROM test.seq_1_to_4000`,
    );
    names.push(`z${kbs}`);
  }
  await srv.query(
    "CREATE TABLE bank.pc (id INT PRIMARY KEY, v VARCHAR(300)) PAGE_COMPRESSED=1;" +
      "INSERT INTO bank.pc SELECT seq, REPEAT(MD5(seq), 6) FROM test.seq_1_to_8000",
  );
  names.push("pc");
  // the compressed tables change during the hot pass too
  const churn = (async () => {
    for (let i = 0; i < 20; i++) {
      await srv.query(
        `UPDATE bank.z1 SET v = REVERSE(v) WHERE id % 20 = ${i}; UPDATE bank.z8 SET v = REVERSE(v) WHERE id % 20 = ${i};` +
          `UPDATE bank.pc SET v = REVERSE(v) WHERE id % 20 = ${i}`,
      );
    }
  })();
  await churn;
  const r = await samePagesAsUnderLock(srv, "bank", names, ["pc"]);
  assert.deepEqual(
    [1, 2, 4, 8].map((k) => r.tablespaces.find((t) => t.file === `bank/z${k}.ibd`)!.pageSize),
    [1024, 2048, 4096, 8192],
  );
});

for (const pageSize of [4096, 65536]) {
  Deno.test(`rebuilt == file under the lock with innodb_page_size=${pageSize / 1024}k`, async () => {
    await using srv = await startServer({ pageSize });
    await seedBank(srv, "bank");
    const r = await samePagesAsUnderLock(srv, "bank", ["acct", "log"]);
    assert.equal(r.tablespaces[0].pageSize, pageSize);
  });
}
