import assert from "node:assert/strict";
import { joinTokens, tokenize } from "../lib/names/sql_tokens.ts";
import {
  createdKind,
  readDefiner,
  readForeignKeys,
  referencedNames,
  replaceDefiner,
  retargetForeignKeys,
  retargetTriggerTable,
  rewriteDatabaseRefs,
} from "../lib/names/sql_rewrite.ts";

const objects = new Set(["t", "orders", "v1", "f", "trg", "weird`name"]);
const rename = { from: "shop", to: "shop copy", objects };

Deno.test("tokenize: joining the tokens gives the text back", () => {
  const sql = "CREATE /*!50003 x */ `a``b` 'it''s \\' ok' \"q\" -- c\n# h\n/* c */ 1.5e3 @@x";
  assert.equal(joinTokens(tokenize(sql)), sql);
  const kinds = tokenize("`a``b`").map((t) => [t.kind, t.value]);
  assert.deepEqual(kinds, [["ident", "a`b"]]);
  assert.equal(tokenize('"x"', { ansiQuotes: true })[0].kind, "ident");
  assert.equal(tokenize('"x"')[0].kind, "string");
});

Deno.test("rewriteDatabaseRefs: qualified references move, strings, comments and aliases stay", () => {
  const sql =
    "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v2` AS " +
    "select `shop`.`t`.`id` AS `id`, shop.orders.n, `shop` . `v1`.x, shop.col from `shop`.`t` " +
    "join other.shop on 1 where 'shop.t' = \"shop.t\" /* shop.t */ -- shop.t\n and shop.f(1)";
  const r = rewriteDatabaseRefs(sql, rename);
  assert.equal(
    r.sql,
    "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v2` AS " +
      "select `shop copy`.`t`.`id` AS `id`, `shop copy`.orders.n, `shop copy` . `v1`.x, shop.col from `shop copy`.`t` " +
      "join other.shop on 1 where 'shop.t' = \"shop.t\" /* shop.t */ -- shop.t\n and `shop copy`.f(1)",
  );
  assert.equal(r.rewritten, 5);
  assert.equal(r.inStrings, true);
});

Deno.test("rewriteDatabaseRefs: ANSI_QUOTES reads double quotes as identifiers", () => {
  const r = rewriteDatabaseRefs('CREATE VIEW v AS SELECT * FROM "shop"."t"', rename, "ANSI_QUOTES");
  assert.equal(r.sql, 'CREATE VIEW v AS SELECT * FROM `shop copy`."t"');
  const plain = rewriteDatabaseRefs('CREATE VIEW v AS SELECT "shop"."t"', rename);
  assert.equal(plain.rewritten, 0);
});

Deno.test("rewriteDatabaseRefs: the created object's own qualified name, triggers, case folding", () => {
  const trg = "CREATE DEFINER=`root`@`localhost` TRIGGER shop.newtrg BEFORE INSERT ON shop.t " +
    "FOR EACH ROW SET NEW.a = NEW.a + 1";
  assert.equal(
    rewriteDatabaseRefs(trg, rename).sql,
    "CREATE DEFINER=`root`@`localhost` TRIGGER `shop copy`.newtrg BEFORE INSERT ON `shop copy`.t " +
      "FOR EACH ROW SET NEW.a = NEW.a + 1",
  );
  const folded = rewriteDatabaseRefs("CALL SHOP.T()", { ...rename, foldCase: true });
  assert.equal(folded.sql, "CALL `shop copy`.T()");
  assert.equal(rewriteDatabaseRefs("CALL SHOP.T()", rename).rewritten, 0);
  // a user variable or a name part after a dot is not a database
  assert.equal(rewriteDatabaseRefs("SET @shop.t = x.shop.t", rename).rewritten, 0);
});

Deno.test("definers: read (any quoting) and replace by CURRENT_USER", () => {
  const v =
    "CREATE ALGORITHM=UNDEFINED DEFINER=`app``x`@`%` SQL SECURITY DEFINER VIEW `v` AS select 1";
  assert.deepEqual(readDefiner(v), { user: "app`x", host: "%" });
  assert.deepEqual(readDefiner("CREATE DEFINER='u'@'10.0.0.%' PROCEDURE p() BEGIN END"), {
    user: "u",
    host: "10.0.0.%",
  });
  assert.equal(readDefiner("CREATE DEFINER=CURRENT_USER() EVENT e"), undefined);
  assert.equal(
    replaceDefiner(v),
    "CREATE ALGORITHM=UNDEFINED DEFINER=CURRENT_USER SQL SECURITY DEFINER VIEW `v` AS select 1",
  );
  assert.equal(replaceDefiner("CREATE VIEW v AS SELECT 1"), "CREATE VIEW v AS SELECT 1");
});

const child = "CREATE TABLE `child` (\n  `id` int(11) NOT NULL,\n  `pid` int(11) DEFAULT NULL,\n" +
  "  `oid` int(11) DEFAULT NULL,\n  PRIMARY KEY (`id`),\n  KEY `pid` (`pid`),\n" +
  "  CONSTRAINT `fk_p` FOREIGN KEY (`pid`) REFERENCES `parent` (`id`) ON DELETE CASCADE,\n" +
  "  CONSTRAINT `fk_o` FOREIGN KEY (`oid`) REFERENCES `other`.`o` (`id`)\n" +
  ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='REFERENCES `x` (`y`)'";

Deno.test("readForeignKeys: names, columns, referenced tables", () => {
  const fks = readForeignKeys(child);
  assert.deepEqual(fks.map(({ at: _, ...k }) => k), [
    { name: "fk_p", columns: ["pid"], refTable: "parent", refColumns: ["id"] },
    { name: "fk_o", columns: ["oid"], refDatabase: "other", refTable: "o", refColumns: ["id"] },
  ]);
});

Deno.test("retargetForeignKeys: into the own database unqualified, elsewhere qualified", () => {
  const out = retargetForeignKeys(child, "shop", "copy", (ref) => {
    if (ref.database === "shop" && ref.table === "parent") {
      return { database: "shop", table: "parent" };
    }
    if (ref.table === "o") return { database: "copy", table: "o2" };
    return undefined;
  });
  assert.match(out, /REFERENCES `shop`\.`parent` \(`id`\) ON DELETE CASCADE/);
  assert.match(out, /REFERENCES `o2` \(`id`\)\n/);
  assert.match(out, /COMMENT='REFERENCES `x` \(`y`\)'$/);
});

Deno.test("retargetTriggerTable and referencedNames", () => {
  const trg = "CREATE DEFINER=`root`@`localhost` TRIGGER trg AFTER UPDATE ON t FOR EACH ROW " +
    "INSERT INTO shop.log VALUES (1)";
  assert.equal(
    retargetTriggerTable(trg, "d", "t2"),
    "CREATE DEFINER=`root`@`localhost` TRIGGER trg AFTER UPDATE ON `d`.`t2` FOR EACH ROW " +
      "INSERT INTO shop.log VALUES (1)",
  );
  const refs = referencedNames("select `shop`.`v1`.`id` AS `id` from `shop`.`v1` join t");
  assert.ok(refs.some((r) => r.database === "shop" && r.name === "v1"));
  assert.ok(refs.some((r) => r.database === undefined && r.name === "t"));
});

Deno.test("createdKind: what a CREATE statement creates, nothing for other statements", () => {
  assert.equal(
    createdKind(
      "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select 1",
    ),
    "VIEW",
  );
  assert.equal(
    createdKind("CREATE DEFINER=`u`@`%` TRIGGER shop.t BEFORE INSERT ON t FOR EACH ROW SET @a = 1"),
    "TRIGGER",
  );
  assert.equal(createdKind("CREATE DEFINER=`u`@`%` PROCEDURE `p`() BEGIN END"), "PROCEDURE");
  assert.equal(createdKind("DROP DATABASE shop"), undefined);
  assert.equal(createdKind("/* CREATE VIEW v */ DROP TABLE t"), undefined);
});
