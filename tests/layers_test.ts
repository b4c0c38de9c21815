/**
 * The import graph of lib/ (type-only imports included): no module imports from
 * a layer above its own, the source/sink/server layers do not import each other,
 * and there is no import cycle. Layers, bottom up, are listed in LAYERS.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Layers bottom up: a module may import its own layer's modules and lower layers'. */
const LAYERS: { name: string; members: string[]; peersApart?: boolean }[] = [
  {
    name: "base",
    members: [
      "lib/errors.ts",
      "lib/version.ts",
      "lib/workers.ts",
      "lib/builtins.ts",
      "lib/kernels/",
      "lib/frames/",
    ],
  },
  { name: "words", members: ["lib/names/", "lib/entry.ts", "lib/progress/"] },
  { name: "vocabulary", members: ["lib/core/"] },
  { name: "flow", members: ["lib/source.ts", "lib/sink.ts"] },
  { name: "pages", members: ["lib/innodb/"] },
  // Each of these owns its sources and sinks; they never import one another.
  {
    name: "ends",
    members: ["lib/image/", "lib/backupdir/", "lib/server/", "lib/xbstream/"],
    peersApart: true,
  },
  // Work over whole backups and roots of them, using the ends.
  {
    name: "services",
    members: ["lib/catalog/", "lib/delta/", "lib/monitor/", "lib/retention/", "lib/framed/"],
  },
  { name: "commands", members: ["lib/commands/"] },
  { name: "entry points", members: ["mod.ts", "cli.ts"] },
];

function layerOf(file: string): { rank: number; member: string } {
  for (let rank = 0; rank < LAYERS.length; rank++) {
    for (const member of LAYERS[rank].members) {
      if (member.endsWith("/") ? file.startsWith(member) : file === member) return { rank, member };
    }
  }
  throw new Error(`${file} belongs to no layer: add it to LAYERS in tests/layers_test.ts`);
}

function walk(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((n) => {
    const rel = `${dir}/${n}`;
    return statSync(join(ROOT, rel)).isDirectory() ? walk(rel) : rel.endsWith(".ts") ? [rel] : [];
  });
}

/** Relative imports of a module: `import ... from`, `import type`, `export ... from`, `import()`. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const out: string[] = [];
  const re =
    /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|new URL\(\s*["'](\.[^"']+\.ts)["']/g;
  for (const m of text.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.startsWith(".")) continue;
    out.push(relative(ROOT, resolve(ROOT, dirname(file), spec)));
  }
  return out;
}

const FILES = ["mod.ts", "cli.ts", ...walk("lib")];
const GRAPH = new Map(FILES.map((f) => [f, importsOf(f).filter((t) => FILES.includes(t))]));

Deno.test("layers: every module of lib/ belongs to a layer", () => {
  for (const f of FILES) layerOf(f);
});

Deno.test("layers: no import runs up a layer, and the ends do not import each other", () => {
  const bad: string[] = [];
  for (const [from, tos] of GRAPH) {
    const a = layerOf(from);
    for (const to of tos) {
      const b = layerOf(to);
      if (b.rank > a.rank) {
        bad.push(`${from} -> ${to} (${LAYERS[b.rank].name} is above ${LAYERS[a.rank].name})`);
      } else if (b.rank === a.rank && LAYERS[a.rank].peersApart && a.member !== b.member) {
        bad.push(`${from} -> ${to} (${a.member} and ${b.member} are peers)`);
      }
    }
  }
  assert.deepEqual(bad, []);
});

Deno.test("layers: no import cycle, type-only imports included", () => {
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === "done") return;
    if (state.get(f) === "open") {
      cycles.push([...path.slice(path.indexOf(f)), f].join(" -> "));
      return;
    }
    state.set(f, "open");
    for (const t of GRAPH.get(f) ?? []) visit(t, [...path, f]);
    state.set(f, "done");
  };
  for (const f of FILES) visit(f, []);
  assert.deepEqual(cycles, []);
});

Deno.test("layers: the import scanner sees type-only and re-export imports", () => {
  const deps = GRAPH.get("mod.ts") ?? [];
  assert.ok(deps.includes("lib/errors.ts"), "mod.ts re-exports lib/errors.ts");
  assert.ok(importsOf("lib/source.ts").includes("lib/entry.ts"), "type-only import is seen");
});
