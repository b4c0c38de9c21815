// Shared helpers of the image tests (not a test file itself).
import { defaultOptions, type Options } from "../lib/commands/options.ts";
import type { Command, CommandContext } from "../lib/commands/command.ts";
import { createReporter } from "../lib/progress/reporter.ts";

export const KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
export const OTHER_KEY_HEX = "ff112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

export function ctx(over: Partial<Options>, log: string[] = []): CommandContext {
  return {
    options: { ...defaultOptions(2), threads: 2, ...over },
    args: [],
    report: createReporter({ showProgress: false, write: (s) => void log.push(s) }),
    signal: new AbortController().signal,
    printJson: () => {},
  };
}

export async function run(cmd: Command, over: Partial<Options>, log: string[] = []) {
  return await cmd.run(ctx(over, log));
}

/** Deterministic pseudo-random bytes, partly compressible (like tablespace pages). */
export function pageLike(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    if ((i & 16383) < 6000) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    } else b[i] = (i >> 8) & 3;
  }
  return b;
}

export async function makeTree(dir: string, files: Record<string, Uint8Array>) {
  for (const [p, data] of Object.entries(files)) {
    const full = `${dir}/${p}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(full, data);
  }
}

export async function readTree(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  async function visit(rel: string) {
    for await (const e of Deno.readDir(rel ? `${dir}/${rel}` : dir)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await visit(r);
      else out.set(r, await Deno.readFile(`${dir}/${r}`));
    }
  }
  await visit("");
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
