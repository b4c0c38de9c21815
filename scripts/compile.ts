/**
 * `deno task compile`: build the single binary dist/ibvault. Uses `deno compile`
 * when it can get its runtime (network, or DENORT_BIN pointing at a denort
 * binary), else `bun build --compile`. Worker modules (`*_worker.ts` under lib/)
 * are passed as extra entry points so they are inside the binary too.
 */
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = join(root, "dist", "ibvault");
const tmp = out + ".tmp";

/** Every worker module under lib/, relative to the repo root. */
function workerModules(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith("_worker.ts")) found.push(relative(root, p));
    }
  };
  walk(join(root, "lib"));
  return found.sort();
}

async function run(cmd: string, args: string[], timeoutMs: number): Promise<boolean> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: root,
    stdout: "inherit",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).spawn();
  const { success, stderr } = await child.output();
  if (!success) {
    const text = new TextDecoder().decode(stderr).trim().split("\n").slice(0, 3).join("\n");
    console.error(`compile: ${cmd.split("/").pop()} failed: ${text}`);
  }
  return success;
}

mkdirSync(join(root, "dist"), { recursive: true });
rmSync(tmp, { force: true });
const workers = workerModules();
const denoBin = join(root, "node_modules", "deno", "deno");
const bunBin = join(root, "node_modules", ".bin", "bun");

let used = "";
const denoArgs = ["compile", "-A", "--no-check", "--output", tmp];
for (const w of workers) denoArgs.push("--include", w);
denoArgs.push("cli.ts");
if (await run(denoBin, denoArgs, 120_000)) {
  used = Deno.env.get("DENORT_BIN") ? "deno compile (DENORT_BIN)" : "deno compile";
} else {
  console.error("compile: deno compile cannot get its runtime here; falling back to bun");
  // --smol: JavaScriptCore collects sooner; measured on a 1.56 GB encrypted image,
  // peak RSS of image-to-backup-dir 318 → 137 MB and of backup-dir-to-image
  // 345 → 148 MB, at the same speed.
  const bunArgs = [
    "build",
    "--compile",
    "--minify-syntax",
    // Bytecode: start-up is parsing, not running (--version 80 -> 30 ms wall,
    // validating one small file 90 -> 40 ms); ESM keeps cli.ts's top-level await.
    "--bytecode",
    "--format=esm",
    "--compile-exec-argv=--smol",
    "--outfile",
    tmp,
    "cli.ts",
    ...workers,
  ];
  if (await run(bunBin, bunArgs, 300_000)) used = "bun build --compile";
}
if (!used) {
  console.error("compile: FAILED: neither deno compile nor bun build --compile worked");
  Deno.exit(1);
}
renameSync(tmp, out);
console.log(`compile: wrote dist/ibvault with ${used} (workers: ${workers.join(", ") || "none"})`);
