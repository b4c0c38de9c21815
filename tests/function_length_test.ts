/**
 * No function in lib/ is longer than MAX_LINES lines (declarations, methods,
 * function expressions and arrow functions, counted from their first to their
 * last line), measured on the real syntax tree with Deno's lint plugin API.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MAX_LINES = 120;
/** Functions known to be longer, to be split by their owners (file:line of the function). */
const KNOWN_LONG = new Set<string>([]);

function walk(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((n) => {
    const rel = `${dir}/${n}`;
    return statSync(join(ROOT, rel)).isDirectory() ? walk(rel) : rel.endsWith(".ts") ? [rel] : [];
  });
}

/** Every function of `source` with its first line and length in lines. */
function functionsOf(file: string, source: string): { line: number; lines: number }[] {
  const found: { line: number; lines: number }[] = [];
  const lineAt = (offset: number) => source.slice(0, offset).split("\n").length;
  const plugin: Deno.lint.Plugin = {
    name: "ibvault",
    rules: {
      "function-length": {
        create() {
          const measure = (node: Deno.lint.Node) => {
            const [start, end] = node.range;
            found.push({ line: lineAt(start), lines: lineAt(end) - lineAt(start) + 1 });
          };
          return {
            FunctionDeclaration: measure,
            FunctionExpression: measure,
            ArrowFunctionExpression: measure,
          };
        },
      },
    },
  };
  Deno.lint.runPlugin(plugin, file, source);
  return found;
}

Deno.test(`functions: none in lib/ is longer than ${MAX_LINES} lines`, () => {
  const long: string[] = [];
  for (const file of walk("lib")) {
    for (const f of functionsOf(file, readFileSync(join(ROOT, file), "utf8"))) {
      if (f.lines > MAX_LINES && !KNOWN_LONG.has(`${file}:${f.line}`)) {
        long.push(`${file}:${f.line} (${f.lines} lines: split it into named parts)`);
      }
    }
  }
  assert.deepEqual(long, []);
});

Deno.test("functions: the measure sees declarations, methods and arrows", () => {
  const src =
    "function f() {\n}\nclass A {\n  m() {\n    return 1;\n  }\n}\nconst g = () => {\n};\n";
  assert.deepEqual(functionsOf("x.ts", src).map((f) => f.lines).sort(), [2, 2, 3]);
});
