/**
 * A manifest is not trusted as SQL (issue 11 item 3): the recorded CREATE
 * statements copy-back runs are checked first. Pure checks here; a hostile
 * backup against the real server below.
 */
import assert from "node:assert/strict";
import { CorruptionError } from "../lib/errors.ts";
import { checkCreateDatabase, checkCreateTable, tokenizeSql } from "../lib/server/sql_guard.ts";
import { renameCreateTable } from "../lib/server/import.ts";
import { startServer, type ThrowawayServer } from "../scripts/throwaway_server.ts";
import { backupTo, copyBack } from "./fixtures/copy_back.ts";

const opts = { force: false, datadir: "/var/lib/mysql" };
const head = "CREATE TABLE `db`.`t` ";

/** Statements as MariaDB's SHOW CREATE TABLE writes them (after the name is replaced). */
const GOOD = [
  "(\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
  "(\n  `id` int NOT NULL,\n  `v` varchar(20) DEFAULT 'x; SELECT 1 -- ''quoted'' \\' \"',\n  `c` text COMMENT 'SELECT * FROM mysql.user'\n) ENGINE=InnoDB",
  "(`id` int NOT NULL, `d` int GENERATED ALWAYS AS (`id` * 2) VIRTUAL, CONSTRAINT `c` CHECK (`id` > 0 and `x` like 'a%')) ENGINE=InnoDB",
  "(`id` int NOT NULL, `b` text, FULLTEXT KEY `ft` (`b`)) ENGINE=InnoDB ROW_FORMAT=DYNAMIC",
  "(`id` int NOT NULL) ENGINE=InnoDB\n PARTITION BY RANGE (`id`)\n(PARTITION `p0` VALUES LESS THAN (10) ENGINE = InnoDB,\n PARTITION `p1` VALUES LESS THAN MAXVALUE ENGINE = InnoDB)",
  "(`id` int NOT NULL) ENGINE=InnoDB /*!50100 PARTITION BY HASH (`id`) PARTITIONS 4 */",
  "(`a b` int, `sélect` int, `TABLE` int) ENGINE=InnoDB `PAGE_COMPRESSED`='ON'",
];

/** Hostile statements, each with what the refusal must say. */
const BAD: [string, string, RegExp][] = [
  ["create ... select", head + "(`u` char(80)) SELECT user AS u FROM mysql.user", /holds SELECT/],
  ["as select", head + "(`u` char(80)) ENGINE=InnoDB AS SELECT * FROM mysql.user", /holds SELECT/],
  [
    "select in executable comment",
    head + "(`u` int) ENGINE=InnoDB /*! SELECT 1 */",
    /holds SELECT/,
  ],
  [
    "second statement",
    head + "(`u` int) ENGINE=InnoDB; DROP DATABASE mysql",
    /more than one statement/,
  ],
  [
    "statement in MariaDB comment",
    head + "(`u` int) /*M!100000 ; DROP TABLE x */",
    /more than one statement/,
  ],
  [
    "escape hides a quote",
    head + "(`u` int DEFAULT '\\'') ; SELECT 1 -- ')",
    /more than one statement|holds SELECT/,
  ],
  ["unterminated string", head + "(`u` int DEFAULT 'abc) ENGINE=InnoDB", /unterminated string/],
  ["unterminated comment", head + "(`u` int) /* ENGINE=InnoDB", /unterminated comment/],
  ["unterminated name", head + "(`u int) ENGINE=InnoDB", /unterminated quoted name/],
  [
    "data directory",
    head + "(`u` int) ENGINE=InnoDB DATA DIRECTORY='/tmp/evil'",
    /DATA DIRECTORY \(give --force/,
  ],
  [
    "index directory",
    head + "(`u` int) ENGINE=InnoDB INDEX DIRECTORY = '/tmp/evil'",
    /INDEX DIRECTORY/,
  ],
  [
    "partition data directory",
    head +
    "(`u` int) ENGINE=InnoDB /*!50100 PARTITION BY HASH (`u`) (PARTITION p0 DATA DIRECTORY = '/etc' ENGINE = InnoDB) */",
    /DATA DIRECTORY/,
  ],
  [
    "other engine",
    head + "(`u` int) ENGINE=CONNECT TABLE_TYPE=CSV FILE_NAME='/etc/shadow'",
    /engine is CONNECT, not InnoDB/,
  ],
  ["merge union", head + "(`u` int) ENGINE=InnoDB UNION=(`mysql`.`user`)", /holds UNION/],
  [
    "load_file default",
    head + "(`u` blob DEFAULT LOAD_FILE('/etc/shadow')) ENGINE=InnoDB",
    /holds LOAD_FILE/,
  ],
  ["sleep", head + "(`u` int DEFAULT (SLEEP(100))) ENGINE=InnoDB", /holds SLEEP/],
  ["wrong table", "CREATE TABLE `db`.`other` (`u` int)", /does not create `db`\.`t`/],
  ["unqualified", "CREATE TABLE `t` (`u` int)", /does not create/],
  ["no column list", head + "LIKE `mysql`.`user`", /no column list/],
  ["not create table", "DROP TABLE `db`.`t`", /does not start with CREATE TABLE/],
  ["unbalanced", head + "(`u` int)) (", /parentheses do not match/],
];

Deno.test(`checkCreateTable: ${GOOD.length} real statements pass`, () => {
  for (const body of GOOD) checkCreateTable(head + body, "db", "t", opts);
  // Names with quotes, spaces and non-ASCII letters.
  checkCreateTable(
    "CREATE TABLE `we``ird db`.`à b` (`x` int) ENGINE=InnoDB",
    "we`ird db",
    "à b",
    opts,
  );
});

Deno.test(`checkCreateTable: ${BAD.length} hostile statements are refused, naming the table`, () => {
  for (const [label, sql, expected] of BAD) {
    assert.throws(() => checkCreateTable(sql, "db", "t", opts), (e: unknown) => {
      assert.ok(e instanceof CorruptionError, label);
      assert.match(e.message, /^`db`\.`t`: refused the manifest's CREATE TABLE statement: /, label);
      assert.match(e.message, expected, `${label}: ${e.message}`);
      assert.match(e.message, /not trusted as SQL/);
      return true;
    }, label);
  }
});

Deno.test("checkCreateTable: --force allows DATA/INDEX DIRECTORY only inside the data directory", () => {
  const force = { force: true, datadir: "/var/lib/mysql" };
  checkCreateTable(
    head + "(`u` int) ENGINE=InnoDB DATA DIRECTORY='/var/lib/mysql/ext'",
    "db",
    "t",
    force,
  );
  checkCreateTable(
    head + "(`u` int) ENGINE=InnoDB INDEX DIRECTORY='/var/lib/mysql'",
    "db",
    "t",
    force,
  );
  for (const dir of ["/tmp/evil", "/var/lib/mysql/../../etc", "/var/lib/mysqlx", "relative/dir"]) {
    assert.throws(
      () =>
        checkCreateTable(
          head + `(\`u\` int) ENGINE=InnoDB DATA DIRECTORY='${dir}'`,
          "db",
          "t",
          force,
        ),
      /is not inside the server's data directory \/var\/lib\/mysql/,
      dir,
    );
  }
});

Deno.test("checkCreateDatabase: only character set, collation and comment options", () => {
  checkCreateDatabase("CREATE DATABASE `new db`", "new db");
  checkCreateDatabase(
    "CREATE DATABASE `d` /*!40100 DEFAULT CHARACTER SET latin1 COLLATE latin1_german1_ci */ COMMENT 'x; y'",
    "d",
  );
  checkCreateDatabase("CREATE DATABASE `d` CHARSET = utf8mb4", "d");
  for (
    const [sql, re] of [
      ["CREATE DATABASE `d`; DROP DATABASE mysql", /holds ';'/],
      ["CREATE DATABASE `d` /*! ; SELECT 1 */", /holds ';'/],
      ["CREATE DATABASE `e`", /does not create `d`/],
      ["CREATE DATABASE `d` DEFAULT CHARACTER SET latin1 SELECT", /holds SELECT/],
    ] as const
  ) {
    assert.throws(() => checkCreateDatabase(sql, "d"), re, sql);
  }
});

Deno.test("tokenizeSql: strings, quoted names, comments, executable comments", () => {
  const t = tokenizeSql("a 'b''c\\'d' `e``f` \"g\" # x\n-- y\n/* z */ /*!50100 h */ --1");
  assert.deepEqual(t.map((k) => `${k.kind}:${k.value}`), [
    "word:A",
    "string:b'c'd",
    "quoted:e`f",
    "string:g",
    "word:H",
    "symbol:-",
    "symbol:-",
    "word:1",
  ]);
});

async function tableNames(srv: ThrowawayServer, db: string): Promise<string[]> {
  const rows = await srv.query<{ n: string }[]>(
    "SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
    [db],
  );
  return rows.map((r) => r.n).sort();
}

Deno.test("copy-back: real definitions restore; a manifest with hostile SQL runs nothing on the real server", async () => {
  await using srv = await startServer();
  await srv.query(
    "CREATE DATABASE src; USE src;" +
      "CREATE TABLE plain (id INT PRIMARY KEY, v VARCHAR(20) DEFAULT 'a; SELECT 1');" +
      "CREATE TABLE parted (id INT PRIMARY KEY) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE);" +
      "CREATE TABLE gen (id INT PRIMARY KEY, d INT AS (id * 2) VIRTUAL, CHECK (id > 0), b TEXT, FULLTEXT KEY (b));" +
      "INSERT INTO plain (id) VALUES (1), (2); INSERT INTO parted VALUES (1), (20); INSERT INTO gen (id, b) VALUES (1, 'hello world')",
  );
  const dir = await backupTo(srv, "^src\\.");
  try {
    // The guard passes what the server wrote (partitioned tables are checked, not restored:
    // MariaDB cannot import their tablespaces).
    for (const t of ["plain", "parted", "gen"]) {
      const [row] = await srv.query<{ "Create Table": string }[]>(`SHOW CREATE TABLE src.${t}`);
      checkCreateTable(renameCreateTable(row["Create Table"], "dst", t), "dst", t, opts);
    }
    for (const t of ["plain", "gen"]) {
      const r = await copyBack(srv, {
        backupDir: dir,
        includeTables: `^src\\.${t}$`,
        rename: [`src.${t} TO dst.${t}`],
      });
      assert.equal(r.code, 0, r.lines.join("\n"));
    }
    assert.deepEqual(await tableNames(srv, "dst"), ["gen", "plain"]);
    // Hostile manifests: each refused before anything runs; nothing is created.
    const manifestPath = `${dir}/ibvault_manifest.json`;
    const original = await Deno.readTextFile(manifestPath);
    const hostile: [string, RegExp][] = [
      ["CREATE TABLE `plain` (`user` char(80)) SELECT user FROM mysql.user", /holds SELECT/],
      [
        "CREATE TABLE `plain` (`id` int) ENGINE=InnoDB DATA DIRECTORY='/tmp/ibvault-evil-dir'",
        /DATA DIRECTORY/,
      ],
      [
        "CREATE TABLE `plain` (`id` int) ENGINE=InnoDB; DROP DATABASE `dst`",
        /more than one statement/,
      ],
    ];
    for (const [sql, expected] of hostile) {
      const m = JSON.parse(original);
      m.tables.find((t: { name: string }) => t.name === "plain").createStatement = sql;
      await Deno.writeTextFile(manifestPath, JSON.stringify(m));
      const r = await copyBack(srv, {
        backupDir: dir,
        includeTables: "^src\\.plain$",
        rename: ["src.plain TO evil.stolen"],
        force: true,
      });
      assert.equal(r.code, 1, `${sql}: ${r.lines.join("\n")}`);
      assert.match(r.error?.message ?? "", expected);
      assert.match(r.error?.message ?? "", /`evil`\.`stolen`: refused the manifest's CREATE TABLE/);
      assert.deepEqual(await tableNames(srv, "evil"), []);
      assert.deepEqual(await tableNames(srv, "dst"), ["gen", "plain"]);
      assert.equal(await Deno.stat("/tmp/ibvault-evil-dir").then(() => true, () => false), false);
    }
    // A hostile CREATE DATABASE is refused too.
    const m = JSON.parse(original);
    m.databases[0].createStatement = "CREATE DATABASE `src` /*! ; DROP DATABASE `dst` */";
    await Deno.writeTextFile(manifestPath, JSON.stringify(m));
    const r = await copyBack(srv, {
      backupDir: dir,
      includeTables: "^src\\.plain$",
      rename: ["src.plain TO evil2.t"],
    });
    assert.equal(r.code, 1, r.lines.join("\n"));
    assert.match(
      r.error?.message ?? "",
      /`evil2`: refused the manifest's CREATE DATABASE statement/,
    );
    assert.deepEqual(await tableNames(srv, "dst"), ["gen", "plain"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
