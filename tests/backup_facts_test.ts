import assert from "node:assert/strict";
import { flavorOf, tablespaceKey, tablespaceName } from "../lib/server/facts.ts";
import { classifyTables } from "../lib/server/tables.ts";
import { compileTableFilter } from "../lib/names/filter.ts";
import type { ServerFacts } from "../lib/core/manifest.ts";

const mysqlFacts: ServerFacts = {
  flavor: "mysql",
  version: "8.0.36",
  pageSize: 16384,
  checksumAlgorithm: "crc32",
  lowerCaseTableNames: 0,
  datadir: "/var/lib/mysql",
};

Deno.test("server facts: flavour from the version string", () => {
  assert.equal(flavorOf("10.11.19-MariaDB-0+deb12u1"), "mariadb");
  assert.equal(flavorOf("8.0.36"), "mysql");
  assert.equal(flavorOf("8.4.0-commercial"), "mysql");
});

Deno.test("server facts: partition file names per flavour, one lookup key for both", () => {
  assert.equal(
    tablespaceName("mariadb", "weird db", "àbc", "pé", "s0"),
    "weird@0020db/@0gbc#P#p@0p#SP#s0",
  );
  assert.equal(
    tablespaceName("mysql", "weird db", "àbc", "pé", "s0"),
    "weird@0020db/@0gbc#p#p@0p#sp#s0",
  );
  assert.equal(tablespaceName("mysql", "db", "t"), "db/t");
  assert.equal(tablespaceKey("db/t#p#p0#sp#s0"), tablespaceKey("db/t#P#p0#SP#s0"));
});

Deno.test("table classification on MySQL 8: partitions, DATA DIRECTORY, general tablespaces", () => {
  const catalog = {
    tables: [
      {
        database: "db",
        name: "t",
        type: "BASE TABLE",
        engine: "InnoDB",
        rowFormat: "Dynamic",
        createOptions: "",
      },
      {
        database: "db",
        name: "p",
        type: "BASE TABLE",
        engine: "InnoDB",
        rowFormat: "Dynamic",
        createOptions: "partitioned",
      },
      {
        database: "db",
        name: "half",
        type: "BASE TABLE",
        engine: "InnoDB",
        rowFormat: "Dynamic",
        createOptions: "partitioned",
      },
      {
        database: "db",
        name: "far",
        type: "BASE TABLE",
        engine: "InnoDB",
        rowFormat: "Dynamic",
        createOptions: "",
      },
      {
        database: "db",
        name: "gen",
        type: "BASE TABLE",
        engine: "InnoDB",
        rowFormat: "Dynamic",
        createOptions: "",
      },
      {
        database: "mysql",
        name: "user",
        type: "BASE TABLE",
        engine: "InnoDB",
        rowFormat: "Dynamic",
        createOptions: "",
      },
    ],
    partitions: [
      { database: "db", table: "p", partition: "p0" },
      { database: "db", table: "p", partition: "p1" },
      { database: "db", table: "half", partition: "p0" },
      { database: "db", table: "half", partition: "p1" },
    ],
    tablespaces: new Map([
      ["db/t", { name: "db/t", space: 5, kind: "single" as const, file: "./db/t.ibd" }],
      ["db/p#P#p0", {
        name: "db/p#p#p0",
        space: 6,
        kind: "single" as const,
        file: "./db/p#p#p0.ibd",
      }],
      ["db/p#P#p1", {
        name: "db/p#p#p1",
        space: 7,
        kind: "single" as const,
        file: "./db/p#p#p1.ibd",
      }],
      ["db/half#P#p0", {
        name: "db/half#p#p0",
        space: 8,
        kind: "single" as const,
        file: "./db/half#p#p0.ibd",
      }],
      ["db/half#P#p1", { name: "db/half#p#p1", space: 9, kind: "general" as const }],
      ["db/far", {
        name: "db/far",
        space: 10,
        kind: "single" as const,
        file: "/mnt/fast/db/far.ibd",
      }],
      ["db/gen", { name: "db/gen", space: 11, kind: "general" as const }],
    ]),
  };
  const sel = classifyTables(catalog, mysqlFacts, compileTableFilter({}), false);
  assert.deepEqual(sel.tables.map((t) => [t.name, t.stems]), [
    ["t", ["db/t"]],
    ["p", ["db/p#p#p0", "db/p#p#p1"]],
  ]);
  const why = new Map(sel.skipped.map((s) => [s.name, s.reason]));
  assert.match(why.get("half")!, /partition p1 stored in a general .* whole or not at all/);
  assert.match(why.get("far")!, /DATA DIRECTORY/);
  assert.match(why.get("gen")!, /general/);
  assert.ok(!why.has("user"), "system databases are not listed unless asked for");
  const asked = classifyTables(
    catalog,
    mysqlFacts,
    compileTableFilter({ include: "^mysql\\." }),
    true,
  );
  assert.match(asked.skipped[0].reason, /system database/);
});
