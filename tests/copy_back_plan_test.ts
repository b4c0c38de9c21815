/** Unit tests of lib/server/restore_plan.ts: selection, renames and checks (no server). */
import assert from "node:assert/strict";
import type { Manifest, ServerFacts, TableRecord } from "../lib/core/manifest.ts";
import {
  planRestore,
  selectRestoreTables,
  splitRenames,
  type TargetState,
} from "../lib/server/restore_plan.ts";
import { parseRenames } from "../lib/names/rename.ts";
import { ServerError, UsageError } from "../lib/errors.ts";

const FACTS: ServerFacts = {
  flavor: "mariadb",
  version: "10.11.6-MariaDB",
  pageSize: 16384,
  checksumAlgorithm: "full_crc32",
  lowerCaseTableNames: 0,
  datadir: "/nonexistent",
  innodbDefaultRowFormat: "dynamic",
};

function table(database: string, name: string, files?: string[]): TableRecord {
  const stem = `${database === "db" ? "db" : "other"}/${name === "àbc" ? "@0gbc" : name}`;
  return {
    database,
    name,
    engine: "InnoDB",
    rowFormat: "Dynamic",
    createStatement: `CREATE TABLE \`${name}\` (id INT PRIMARY KEY) ENGINE=InnoDB`,
    files: files ?? [`${stem}.ibd`, `${stem}.cfg`],
  };
}

const MANIFEST: Manifest = {
  format: "ibvault-manifest",
  version: 1,
  tool: { name: "ibvault", version: "0" },
  createdAt: "",
  server: FACTS,
  options: {},
  databases: [
    {
      name: "db",
      dir: "db",
      createStatement: "CREATE DATABASE `db` /*!40100 DEFAULT CHARACTER SET latin1 */",
    },
    { name: "other", dir: "other", createStatement: "CREATE DATABASE `other`" },
  ],
  tables: [table("db", "àbc"), table("db", "t"), table("other", "t")],
  entries: [],
};

const EMPTY: TargetState = { databases: ["db"], tables: [], files: [] };

function sel(include?: string, renames: string[] = [], exclude?: string) {
  return selectRestoreTables(MANIFEST, { include, exclude, renames: parseRenames(renames) });
}

Deno.test("selection: nothing matched names the expressions (usage error)", () => {
  assert.throws(() => sel("^nope\\."), (e: Error) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /--include-tables="\^nope\\\\\."/);
    return true;
  });
  assert.throws(() => sel(undefined, [], "."), /--exclude-tables="\."/);
});

Deno.test("selection: renames must name one selected table", () => {
  assert.throws(() => sel(undefined, ["t TO u"]), /ambiguous: it names `db`\.`t`, `other`\.`t`/);
  assert.throws(() => sel("^db\\.", ["other.t TO u"]), /is not selected by --include-tables/);
  assert.throws(() => sel(undefined, ["db.zz TO u"]), /is not a table of the backup/);
  const s = sel("^db\\.t$", ["t TO u"]);
  assert.deepEqual(s.map((x) => [x.target.database, x.target.name, x.renamed]), [[
    "db",
    "u",
    true,
  ]]);
  const moved = sel(undefined, ["`db`.`àbc` TO `x y`.`àbc`", "other.t TO other.t2"]);
  assert.deepEqual(moved.map((x) => `${x.target.database}.${x.target.name}`), [
    "x y.àbc",
    "db.t",
    "other.t2",
  ]);
  assert.throws(() => sel(undefined, ["other.t TO db.t"]), /would both be restored as `db`\.`t`/);
});

Deno.test("plan: target files keep the filename encoding; missing databases get their options", () => {
  const plan = planRestore({
    manifest: MANIFEST,
    selected: sel(undefined, ["db.àbc TO `new db`.`àbc 2`"]),
    facts: FACTS,
    state: EMPTY,
    force: false,
  });
  assert.deepEqual(plan.tables[0].files.map((f) => f.target), [
    "new@0020db/@0gbc@00202.ibd",
    "new@0020db/@0gbc@00202.cfg",
  ]);
  assert.deepEqual(plan.databases.map((d) => [d.name, d.source?.name]), [
    ["new db", "db"],
    ["db", undefined],
    ["other", "other"],
  ]);
});

Deno.test("plan: every problem is named, and nothing is planned", () => {
  const mysqlFacts = { ...FACTS, flavor: "mysql" as const, version: "8.0.36", pageSize: 8192 };
  assert.throws(
    () =>
      planRestore({
        manifest: MANIFEST,
        selected: sel(),
        facts: mysqlFacts,
        state: EMPTY,
        force: true,
      }),
    (e: Error) => {
      assert.ok(e instanceof ServerError);
      assert.equal(e.exitCode, 3);
      assert.match(e.message, /comes from mariadb .* server is mysql/);
      assert.match(e.message, /innodb_page_size 16384 and the server 8192/);
      return true;
    },
  );
  const parted: Manifest = {
    ...MANIFEST,
    tables: [
      table("db", "p", ["db/p#P#p0.ibd", "db/p#P#p0.cfg", "db/p#P#p1.ibd", "db/p#P#p1.cfg"]),
    ],
  };
  // MariaDB: partitions go through a staging table and EXCHANGE PARTITION
  const partedPlan = planRestore({
    manifest: parted,
    selected: selectRestoreTables(parted, { renames: [] }),
    facts: FACTS,
    state: EMPTY,
    force: true,
  });
  assert.equal(partedPlan.tables[0].method, "partitions");
  const state: TargetState = {
    databases: ["db", "other"],
    tables: [{ database: "db", name: "t", note: "its tablespace is discarded" }],
    files: ["other/t.ibd"],
  };
  assert.throws(
    () => planRestore({ manifest: MANIFEST, selected: sel(), facts: FACTS, state, force: true }),
    (e: Error) => {
      assert.match(
        e.message,
        /`db`\.`t` already exists on the server \(its tablespace is discarded\)/,
      );
      assert.match(e.message, /`other`\.`t`: the file other\/t\.ibd already exists/);
      assert.doesNotMatch(e.message, /àbc/);
      return true;
    },
  );
});

Deno.test("plan: lower_case_table_names=1 compares and places names in lower case", () => {
  const facts = { ...FACTS, lowerCaseTableNames: 1 };
  const selected = sel("^db\\.t$", ["db.t TO DB.NewT"]);
  const plan = planRestore({ manifest: MANIFEST, selected, facts, state: EMPTY, force: false });
  assert.deepEqual(plan.tables[0].files.map((f) => f.target), ["db/newt.ibd", "db/newt.cfg"]);
  assert.throws(
    () =>
      planRestore({
        manifest: MANIFEST,
        selected,
        facts,
        state: { ...EMPTY, tables: [{ database: "db", name: "newt" }] },
        force: false,
      }),
    /already exists/,
  );
});

Deno.test("plan: a database rename (two bare names) moves every table of it", () => {
  const split = splitRenames(MANIFEST, parseRenames(["other TO `other copy`", "db.t TO db.t2"]));
  assert.deepEqual([...split.databases], [["other", "other copy"]]);
  assert.equal(split.tables.length, 1);
  const selected = selectRestoreTables(MANIFEST, { renames: split.tables }, split.databases);
  assert.deepEqual(selected.map((s) => `${s.target.database}.${s.target.name}`), [
    "db.àbc",
    "db.t2",
    "other copy.t",
  ]);
  // a bare name that is both a database and a table of the backup is ambiguous
  const both: Manifest = { ...MANIFEST, tables: [...MANIFEST.tables, table("db", "other")] };
  assert.throws(() => splitRenames(both, parseRenames(["other TO x"])), UsageError);
  // a bare table name (no such database) stays a table rename
  assert.equal(splitRenames(MANIFEST, parseRenames(["t TO u"])).tables.length, 1);
});

Deno.test("plan: logical and definition-only tables need no tablespace", () => {
  const logical: Manifest = {
    ...MANIFEST,
    tables: [
      { ...table("db", "my", ["db/my.sql"]), engine: "MyISAM", method: "logical" },
      { ...table("db", "mem", []), engine: "MEMORY", method: "definition" },
    ],
  };
  const plan = planRestore({
    manifest: logical,
    selected: selectRestoreTables(logical, { renames: [] }),
    facts: FACTS,
    state: EMPTY,
    force: false,
  });
  assert.deepEqual(plan.tables.map((t) => [t.source.name, t.method, t.files.map((f) => f.kind)]), [
    ["my", "logical", ["sql"]],
    ["mem", "definition", []],
  ]);
});
