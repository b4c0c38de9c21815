/** Pure parts of whole-database backups: binlog rows, the logical format, object selection. */
import assert from "node:assert/strict";
import { binlogFromRows, describeBinlog, replicaSetup } from "../lib/server/binlog.ts";
import {
  encodeValue,
  InsertBatcher,
  parseInsertLine,
  readLines,
  valueKind,
} from "../lib/core/logical_format.ts";
import { tableMethod } from "../lib/server/logical.ts";
import { CorruptionError } from "../lib/errors.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("binlog: MariaDB rows", () => {
  const p = binlogFromRows(
    "mariadb",
    { gtid_binlog_pos: "0-1-15,1-1-3", gtid_current_pos: "0-1-15,1-1-3", server_id: 1 },
    [{ File: "mysql-bin.000002", Position: 3436, Binlog_Do_DB: "", Binlog_Ignore_DB: "" }],
  );
  assert.deepEqual(p, {
    flavor: "mariadb",
    enabled: true,
    file: "mysql-bin.000002",
    position: 3436,
    gtidBinlogPos: "0-1-15,1-1-3",
    gtidCurrentPos: "0-1-15,1-1-3",
    serverId: 1,
  });
  assert.equal(describeBinlog(p), "mysql-bin.000002:3436, GTID 0-1-15,1-1-3");
  assert.deepEqual(replicaSetup(p)[0], "SET GLOBAL gtid_slave_pos = '0-1-15,1-1-3';");
  assert.match(replicaSetup(p)[1], /MASTER_USE_GTID=slave_pos/);
});

Deno.test("binlog: binary logging off", () => {
  const p = binlogFromRows(
    "mariadb",
    { gtid_binlog_pos: "", gtid_current_pos: "", server_id: 1 },
    [],
  );
  assert.equal(p.enabled, false);
  assert.equal(describeBinlog(p), "binary logging off");
  assert.deepEqual(replicaSetup(p), []);
});

Deno.test("binlog: MySQL 8 rows (SHOW BINARY LOG STATUS, multi-line GTID set)", () => {
  // As the MySQL 8.4 manual shows SHOW BINARY LOG STATUS; gtid_executed wraps with newlines.
  const p = binlogFromRows(
    "mysql",
    {
      gtid_executed: "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5,\n" +
        "4f4b3e9c-2f41-11ee-9b3c-0242ac120002:1-23",
      server_id: 2,
    },
    [{
      File: "binlog.000003",
      Position: 157,
      Binlog_Do_DB: "",
      Binlog_Ignore_DB: "",
      Executed_Gtid_Set: "ignored when the variable is there",
    }],
  );
  assert.equal(
    p.gtidExecuted,
    "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5,4f4b3e9c-2f41-11ee-9b3c-0242ac120002:1-23",
  );
  assert.equal(p.file, "binlog.000003");
  assert.match(replicaSetup(p)[1], /SOURCE_AUTO_POSITION=1/);
  const filePos = binlogFromRows("mysql", { gtid_executed: "", server_id: 2 }, [
    { File: "binlog.000001", Position: 4 },
  ]);
  assert.match(replicaSetup(filePos)[0], /SOURCE_LOG_FILE='binlog.000001', SOURCE_LOG_POS=4/);
});

Deno.test("logical format: value encodings", () => {
  assert.equal(valueKind("DECIMAL"), "number");
  assert.equal(valueKind("timestamp"), "temporal");
  assert.equal(valueKind("longblob"), "hex");
  assert.equal(valueKind("enum"), "hex");
  assert.equal(encodeValue("number", null), "NULL");
  assert.equal(encodeValue("number", enc("-1.5e-7")), "-1.5e-7");
  assert.equal(encodeValue("hex", enc("a'\n")), "0x61270a");
  assert.equal(encodeValue("hex", new Uint8Array()), "''");
  assert.equal(encodeValue("temporal", enc("2024-01-01 10:00:00.5")), "'2024-01-01 10:00:00.5'");
  // what does not look like its kind is never written bare
  assert.equal(encodeValue("number", enc("1); DROP")), "0x31293b2044524f50");
  assert.equal(encodeValue("temporal", enc("x'")), "0x7827");
});

Deno.test("logical format: batches and the checked parse agree", () => {
  const b = new InsertBatcher(
    "t`x",
    [{ name: "a", kind: "number" }, { name: "b", kind: "hex" }],
    20,
  );
  const lines: string[] = [];
  for (let i = 0; i < 5; i++) {
    const l = b.add([enc(String(i)), i % 2 ? null : enc("v")]);
    if (l) lines.push(l);
  }
  const last = b.flush();
  if (last) lines.push(last);
  assert.ok(lines.length > 1);
  let rows = 0;
  for (const l of lines) {
    const p = parseInsertLine(l.trimEnd(), 2, "t.sql");
    assert.equal(l.slice(p.nameStart, p.nameEnd), "`t``x`");
    rows += p.rows;
  }
  assert.equal(rows, 5);
});

Deno.test("logical format: anything but the written forms is refused", () => {
  const ok = "INSERT INTO `t` (`a`,`b`) VALUES (1,0x00),(NULL,'2024-01-01');";
  assert.equal(parseInsertLine(ok, 2, "f").rows, 2);
  for (
    const bad of [
      "INSERT INTO `t` (`a`,`b`) VALUES (1,0x00); DROP TABLE x;",
      "INSERT INTO `t` (`a`,`b`) VALUES (1,'a'' OR 1');",
      "INSERT INTO `t` (`a`,`b`) VALUES (1,0x0);",
      "INSERT INTO `t` (`a`) VALUES (1,2);",
      "INSERT INTO `t` (`a`,`b`) VALUES (1,SLEEP(1));",
      "DELETE FROM `t`;",
    ]
  ) {
    assert.throws(
      () => parseInsertLine(bad, 2, "shop/t.sql"),
      (e) => e instanceof CorruptionError && e.message.startsWith("shop/t.sql"),
    );
  }
});

Deno.test("logical format: lines across chunks; a missing final newline is truncation", async () => {
  async function* chunks(parts: string[]) {
    for (const p of parts) yield enc(p);
  }
  const got: string[] = [];
  for await (const l of readLines(chunks(["ab", "c\nd", "é\n", "\n"]), "f")) got.push(l);
  assert.deepEqual(got, ["abc", "dé", ""]);
  await assert.rejects(async () => {
    for await (const _ of readLines(chunks(["a\nb"]), "shop/t.sql")) { /* */ }
  }, CorruptionError);
});

Deno.test("tableMethod: what TTS carries and what goes logical", () => {
  assert.deepEqual(tableMethod("InnoDB", "single"), { method: "tts" });
  assert.deepEqual(tableMethod("InnoDB", "system"), { method: "logical" });
  assert.deepEqual(tableMethod("InnoDB", "general"), { method: "logical" });
  assert.deepEqual(tableMethod("MyISAM", undefined), { method: "logical" });
  assert.deepEqual(tableMethod("Aria", undefined), { method: "logical" });
  assert.deepEqual(tableMethod("CSV", undefined), { method: "logical" });
  assert.deepEqual(tableMethod("MEMORY", undefined), { method: "definition" });
  assert.ok("reason" in tableMethod("CONNECT", undefined));
});
