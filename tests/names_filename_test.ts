import assert from "node:assert/strict";
import { UsageError } from "../lib/errors.ts";
import {
  decodeFilename,
  encodeFilename,
  isWellFormedFilename,
  parseTableFilename,
  quoteIdentifier,
  quoteTable,
  tableFilePath,
} from "../lib/names/mod.ts";
import { startServer } from "../scripts/throwaway_server.ts";

const CASES: [string, string][] = [
  ["abc", "abc"],
  ["ABC_09", "ABC_09"],
  ["àbc", "@0gbc"],
  ["Àbc", "@0Gbc"],
  ["weird db", "weird@0020db"],
  ["a.b", "a@002eb"],
  ["a-b", "a@002db"],
  ["a#b", "a@0023b"],
  ["a@b", "a@0040b"],
  ["a$b", "a@0024b"],
  ["a`b", "a@0060b"],
  ["a'b\"c", "a@0027b@0022c"],
  ["a/b\\c", "a@002fb@005cc"],
  ["déf", "d@0pf"],
  ["ÿ", "@1r"],
  ["Привет", "@V0@w0@o0@i0@l0@y0"],
  ["Ωμέγα", "@7P@6w@6h@6n@6l"],
  ["日本", "@65e5@672c"],
  ["😀", "@d83d@de00"],
  ["a😀b", "a@d83d@de00b"],
  ["Ａｂ", "@A@@b@"],
  ["ⓐⓑ", "@@a@@b"],
  ["Ⅻ", "@R9"],
];

Deno.test("encodeFilename / decodeFilename: known names both ways", () => {
  for (const [name, file] of CASES) {
    assert.equal(encodeFilename(name), file, name);
    assert.equal(decodeFilename(file), name, file);
    assert.ok(isWellFormedFilename(file), file);
  }
});

Deno.test("encodeFilename: #mysql50# has no special meaning (modern servers reject it)", () => {
  assert.equal(encodeFilename("#mysql50#a-b"), "@0023mysql50@0023a@002db");
});

Deno.test("encodeFilename: empty and NUL are usage errors", () => {
  assert.throws(() => encodeFilename(""), UsageError);
  assert.throws(() => encodeFilename("a\0"), UsageError);
});

Deno.test("decodeFilename: never throws, keeps what is not a well-formed sequence", () => {
  assert.equal(decodeFilename("t1#P#p0"), "t1#P#p0");
  assert.equal(decodeFilename("#sql-1a2b_3"), "#sql-1a2b_3");
  assert.equal(decodeFilename("a@"), "a@");
  assert.equal(decodeFilename("a@0"), "a@0");
  assert.equal(decodeFilename("@zz"), "@zz");
  assert.equal(decodeFilename("@00E0"), "@00E0"); // uppercase hex is not the server's form
  assert.equal(decodeFilename("@00e0"), "à"); // the four-digit form of a table character
  assert.equal(decodeFilename("@d83d"), "\ud83d"); // a lone surrogate, displayed as is
  assert.equal(decodeFilename("@@@"), "\0");
  assert.equal(decodeFilename(""), "");
  for (const bad of ["t1#P#p0", "a@", "@zz", "@00E0", "#sql-1", "a-b", "", "@@@", "ü"]) {
    assert.equal(isWellFormedFilename(bad), false, bad);
  }
});

Deno.test("encodeFilename round-trips every BMP character and some beyond", () => {
  for (let cp = 1; cp < 0x10000; cp++) {
    if (cp >= 0xd800 && cp < 0xe000) continue;
    const ch = String.fromCharCode(cp);
    const file = encodeFilename(ch);
    assert.match(file, /^([0-9A-Za-z_]|@[0-9@-z][0-9@-z]|@[0-9a-f]{4})$/);
    assert.equal(decodeFilename(file), ch);
  }
  for (const cp of [0x10000, 0x1f600, 0x10ffff]) {
    const ch = String.fromCodePoint(cp);
    assert.equal(decodeFilename(encodeFilename(ch)), ch);
  }
});

Deno.test("parseTableFilename: partitions and temporary names", () => {
  assert.deepEqual(parseTableFilename("t"), { table: "t", temporary: false });
  assert.deepEqual(parseTableFilename("@0gbc#P#p0"), {
    table: "àbc",
    partition: "p0",
    temporary: false,
  });
  assert.deepEqual(parseTableFilename("t#p#p@0020x#sp#s0"), {
    table: "t",
    partition: "p x",
    subpartition: "s0",
    temporary: false,
  });
  assert.deepEqual(parseTableFilename("t#P#p1#SP#p1sp0"), {
    table: "t",
    partition: "p1",
    subpartition: "p1sp0",
    temporary: false,
  });
  assert.deepEqual(parseTableFilename("#sql-alter-1a-2b"), {
    table: "#sql-alter-1a-2b",
    temporary: true,
  });
});

Deno.test("tableFilePath", () => {
  assert.equal(tableFilePath("weird db", "àbc"), "weird@0020db/@0gbc.ibd");
  assert.equal(tableFilePath("d", "t", ".frm"), "d/t.frm");
});

async function listDir(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(path)) names.push(e.name);
  return names.sort();
}

Deno.test("filename encoding agrees with the server", async (t) => {
  await using srv = await startServer();

  await t.step("CONVERT(... USING filename) for the table ranges and samples", async () => {
    const cps: number[] = [];
    const ranges = [[0x01, 0x600], [0x1e00, 0x2000], [0x2150, 0x2190], [0x24a0, 0x2500], [
      0xff00,
      0xff70,
    ]];
    for (const [a, b] of ranges) for (let cp = a; cp < b; cp++) cps.push(cp);
    for (let cp = 0x600; cp < 0xd800; cp += 97) cps.push(cp);
    for (let cp = 0xe000; cp < 0x10000; cp += 89) cps.push(cp);
    cps.splice(0, cps.length, ...new Set(cps));
    const rows = await srv.query<{ n: number; h: string }[]>(
      `SELECT seq AS n, HEX(CONVERT(CONVERT(UNHEX(LPAD(HEX(seq), 8, '0')) USING utf32)
         USING filename)) AS h FROM mysql.seq_1_to_65535 WHERE seq IN (${cps.join(",")})`,
    );
    assert.equal(rows.length, cps.length);
    for (const { n, h } of rows) {
      const server = new TextDecoder().decode(
        new Uint8Array(h.match(/../g)!.map((x) => parseInt(x, 16))),
      );
      assert.equal(encodeFilename(String.fromCharCode(n)), server, `U+${n.toString(16)}`);
    }
  });

  await t.step(
    "databases and tables with tricky names land where encodeFilename says",
    async () => {
      const names = [
        "weird db",
        "àbc",
        "déf",
        "a.b",
        "a-b",
        "a#b",
        "a@b",
        "a$b",
        "a`b",
        "a'b\"c",
        "Привет",
        "Ωμέγα",
        "日本語",
        "Ａｂｃ",
        "ⓐⓑ",
        "Ⅻ",
        "x y z",
        "%_",
      ];
      const db = "tricky db`@#";
      await srv.query(`CREATE DATABASE ${quoteIdentifier(db)}`);
      for (const name of names) {
        await srv.query(`CREATE TABLE ${quoteTable(db, name)} (id INT PRIMARY KEY) ENGINE=InnoDB`);
      }
      const dir = `${srv.datadir}/${encodeFilename(db)}`;
      const files = (await listDir(dir)).filter((f) => f.endsWith(".ibd"));
      const expected = names.map((n) => `${encodeFilename(n)}.ibd`).sort();
      assert.deepEqual(files, expected);
      for (const f of files) {
        const decoded = decodeFilename(f.slice(0, -4));
        assert.ok(names.includes(decoded), decoded);
      }
      // every name also as a database directory
      for (const name of names) await srv.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
      const dirs = await listDir(srv.datadir);
      for (const name of names) assert.ok(dirs.includes(encodeFilename(name)), name);
    },
  );

  await t.step("partition files decode for display", async () => {
    await srv.query(
      "CREATE DATABASE p; CREATE TABLE p.`àt` (id INT PRIMARY KEY) ENGINE=InnoDB " +
        "PARTITION BY RANGE (id) (PARTITION `p 0` VALUES LESS THAN (10), " +
        "PARTITION p1 VALUES LESS THAN MAXVALUE)",
    );
    const files = (await listDir(`${srv.datadir}/p`)).filter((f) => f.endsWith(".ibd"));
    const parsed = files.map((f) => parseTableFilename(f.slice(0, -4)));
    assert.deepEqual(parsed.map((p) => `${p.table}/${p.partition}`).sort(), ["àt/p 0", "àt/p1"]);
  });
});
