import assert from "node:assert/strict";
import { orderObjects, planForeignKeys, planObjects, tableKey } from "../lib/server/object_plan.ts";
import { objectKey, type ObjectRecord } from "../lib/server/objects.ts";

const ctx = { characterSetClient: "utf8mb4", collationConnection: "utf8mb4_general_ci" };
const view = (name: string, body: string): ObjectRecord => ({
  kind: "view",
  database: "shop",
  name,
  createStatement: "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER " +
    `VIEW \`${name}\` AS ${body}`,
  definer: { user: "root", host: "localhost" },
  ...ctx,
});
const objects: ObjectRecord[] = [
  {
    kind: "event",
    database: "shop",
    name: "ev",
    createStatement:
      "CREATE DEFINER=`app`@`%` EVENT `ev` ON SCHEDULE EVERY 1 HOUR DO DELETE FROM shop.t",
    definer: { user: "app", host: "%" },
    ...ctx,
  },
  view("v3", "select `shop`.`v2`.`id` AS `id` from `shop`.`v2`"),
  {
    kind: "trigger",
    database: "shop",
    name: "trg",
    table: "t",
    createStatement:
      "CREATE DEFINER=`root`@`localhost` TRIGGER shop.trg BEFORE INSERT ON shop.t FOR EACH ROW SET NEW.a = shop.f(NEW.a)",
    ...ctx,
  },
  view("v2", "select `shop`.`v1`.`id` AS `id` from `shop`.`v1` where `shop`.`f`(1) = 2"),
  {
    kind: "procedure",
    database: "shop",
    name: "p",
    createStatement:
      "CREATE DEFINER=`root`@`localhost` PROCEDURE `p`()\nBEGIN CALL shop.q(); SET @s = 'SELECT * FROM shop.t'; END",
    ...ctx,
  },
  view("v1", "select `shop`.`t`.`id` AS `id` from `shop`.`t`"),
  {
    kind: "function",
    database: "shop",
    name: "f",
    createStatement:
      "CREATE DEFINER=`root`@`localhost` FUNCTION `f`(x INT) RETURNS int(11)\nRETURN x + 1",
    ...ctx,
  },
];

Deno.test("orderObjects: routines, views in view-on-view order, triggers, events", () => {
  assert.deepEqual(orderObjects(objects).map((o) => o.name), [
    "f",
    "p",
    "v1",
    "v2",
    "v3",
    "trg",
    "ev",
  ]);
});

const sourceNames = new Map([[
  "shop",
  new Set(["t", "v1", "v2", "v3", "f", "p", "q", "trg", "ev"]),
]]);

Deno.test("planObjects: database rename rewrites every reference and warns on strings", () => {
  const plan = planObjects({
    objects,
    names: { databases: new Map([["shop", "shop_copy"]]), tables: new Map() },
    sourceNames,
    existing: new Map(),
    missingDefiners: new Set(),
    definerCurrentUser: false,
    skipExisting: false,
  });
  assert.deepEqual(plan.problems, []);
  for (const o of plan.objects) {
    assert.equal(o.database, "shop_copy");
    assert.doesNotMatch(o.statement.replace("'SELECT * FROM shop.t'", ""), /\bshop\b[`]?\./);
  }
  assert.match(plan.objects.find((o) => o.record.name === "trg")!.statement, /ON `shop_copy`\.t /);
  assert.equal(plan.warnings.length, 1);
  assert.match(plan.warnings[0], /procedure `shop_copy`\.`p`.*string literal/);
});

Deno.test("planObjects: a trigger follows its renamed table", () => {
  const plan = planObjects({
    objects: objects.filter((o) => o.kind === "trigger"),
    names: {
      databases: new Map(),
      tables: new Map([[tableKey("shop", "t"), { database: "arch", name: "t_old" }]]),
    },
    sourceNames,
    existing: new Map(),
    missingDefiners: new Set(),
    definerCurrentUser: false,
    skipExisting: false,
  });
  assert.equal(plan.objects[0].database, "arch");
  assert.equal(
    plan.objects[0].statement,
    "CREATE DEFINER=`root`@`localhost` TRIGGER `arch`.trg BEFORE INSERT ON `arch`.`t_old` FOR EACH ROW SET NEW.a = shop.f(NEW.a)",
  );
});

Deno.test("planObjects: existing objects are never replaced; definers the target lacks", () => {
  const base = {
    objects,
    names: { databases: new Map(), tables: new Map() },
    sourceNames,
    existing: new Map([["shop", new Set([objectKey("view", "v1"), objectKey("procedure", "p")])]]),
    missingDefiners: new Set([JSON.stringify(["app", "%"])]),
    definerCurrentUser: false,
    skipExisting: false,
  };
  const refused = planObjects(base);
  assert.equal(refused.problems.length, 2);
  assert.match(refused.problems[0], /procedure `shop`.`p` already exists/);
  assert.ok(
    refused.warnings.some((w) => /definer `app`@`%` does not exist.*event `shop`.`ev`/.test(w)),
  );
  const skipping = planObjects({ ...base, skipExisting: true, definerCurrentUser: true });
  assert.deepEqual(skipping.problems, []);
  assert.deepEqual(skipping.skipped.map((s) => s.label), [
    "procedure `shop`.`p`",
    "view `shop`.`v1`",
  ]);
  const ev = skipping.objects.find((o) => o.record.name === "ev")!;
  assert.match(ev.statement, /^CREATE DEFINER=CURRENT_USER EVENT/);
  assert.ok(
    skipping.warnings.some((w) =>
      /DEFINER=CURRENT_USER: event `shop`.`ev` \(was `app`@`%`\)/.test(w)
    ),
  );
});

const parent =
  "CREATE TABLE `parent` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB";
const child = "CREATE TABLE `child` (\n  `id` int(11) NOT NULL,\n  `pid` int(11) DEFAULT NULL,\n" +
  "  KEY `pid` (`pid`),\n  CONSTRAINT `fk_parent` FOREIGN KEY (`pid`) REFERENCES `parent` (`id`)\n) ENGINE=InnoDB";
const backup = [
  { database: "shop", name: "parent", createStatement: parent },
  { database: "shop", name: "child", createStatement: child },
];

Deno.test("planForeignKeys: a child renamed alone into a new database is dangling", () => {
  const plan = planForeignKeys({
    restored: [{
      source: { database: "shop", name: "child" },
      target: { database: "new", name: "child" },
      createStatement: child,
    }],
    backup,
    names: {
      databases: new Map(),
      tables: new Map([[tableKey("shop", "child"), { database: "new", name: "child" }]]),
    },
    existsOnTarget: () => false,
  });
  assert.deepEqual(plan.dangling, [
    "`new`.`child`: foreign key `fk_parent` references `shop`.`parent`, which is neither restored nor on the server",
  ]);
  assert.match(
    plan.statements.get(tableKey("new", "child"))!,
    /REFERENCES `shop`\.`parent` \(`id`\)/,
  );
  // the original parent is on the target: the key keeps pointing at it
  const ok = planForeignKeys({
    restored: [{
      source: { database: "shop", name: "child" },
      target: { database: "new", name: "child" },
      createStatement: child,
    }],
    backup,
    names: {
      databases: new Map(),
      tables: new Map([[tableKey("shop", "child"), { database: "new", name: "child" }]]),
    },
    existsOnTarget: (t) => t.database === "shop" && t.name === "parent",
  });
  assert.deepEqual(ok.dangling, []);
});

Deno.test("planForeignKeys: database rename keeps the pair together; parent alone is reported", () => {
  const names = {
    databases: new Map([["shop", "copy"]]),
    tables: new Map([
      [tableKey("shop", "parent"), { database: "copy", name: "parent" }],
      [tableKey("shop", "child"), { database: "copy", name: "child" }],
    ]),
  };
  const both = planForeignKeys({
    restored: backup.map((t) => ({
      source: { database: "shop", name: t.name },
      target: { database: "copy", name: t.name },
      createStatement: t.createStatement,
    })),
    backup,
    names,
    existsOnTarget: () => false,
  });
  assert.deepEqual(both.dangling, []);
  assert.deepEqual(both.orphanedParents, []);
  assert.match(both.statements.get(tableKey("copy", "child"))!, /REFERENCES `parent` \(`id`\)/);
  const alone = planForeignKeys({
    restored: [{
      source: { database: "shop", name: "parent" },
      target: { database: "shop", name: "parent" },
      createStatement: parent,
    }],
    backup,
    names: {
      databases: new Map(),
      tables: new Map([[tableKey("shop", "parent"), { database: "shop", name: "parent" }]]),
    },
    existsOnTarget: () => false,
  });
  assert.deepEqual(alone.orphanedParents, [
    "`shop`.`parent` is restored without `shop`.`child`, whose foreign key `fk_parent` references it",
  ]);
});
