/**
 * Running the built binary (dist/ibvault) with arguments given as raw bytes, a
 * pseudo-terminal, or no controlling terminal at all (this file holds no tests).
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The built binary (`deno task compile`, which the test task runs first). */
export const BINARY = fileURLToPath(new URL("../dist/ibvault", import.meta.url));

/** What one run printed and returned. */
export interface BinaryRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** One argument as bash ANSI-C quoting: every byte as `\xNN`, so any bytes but NUL pass. */
export function ansiC(arg: string | Uint8Array): string {
  const bytes = typeof arg === "string" ? new TextEncoder().encode(arg) : arg;
  return "$'" + [...bytes].map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join("") + "'";
}

/** Latin-1 bytes of a string of code points 0..255 (`latin1("new_\u00e0")`). */
export function latin1(text: string): Uint8Array {
  return Uint8Array.from([...text].map((c) => c.codePointAt(0)!));
}

/**
 * Run the binary with `args` (strings or raw bytes) through bash, so bytes that
 * are not UTF-8 reach it as they are. `mode`: "setsid" runs it without a
 * controlling terminal; "pty" runs it on a pseudo-terminal (script(1)) with
 * `input` typed into it once `waitFor` (default the password prompt) is on its
 * output.
 */
export async function runBinary(
  args: (string | Uint8Array)[],
  opts: { mode?: "plain" | "setsid" | "pty"; input?: string; waitFor?: string } = {},
): Promise<BinaryRun> {
  if (!existsSync(BINARY)) throw new Error("dist/ibvault is missing: run deno task compile first");
  const line = ["exec", ansiC(BINARY), ...args.map(ansiC)].join(" ");
  let cmd: string;
  let cmdArgs: string[];
  if (opts.mode === "pty") {
    cmd = "script";
    cmdArgs = ["-qec", line, "/dev/null"];
  } else if (opts.mode === "setsid") {
    cmd = "setsid";
    cmdArgs = ["-w", "bash", "-c", line];
  } else {
    cmd = "bash";
    cmdArgs = ["-c", line];
  }
  const child = new Deno.Command(cmd, {
    args: cmdArgs,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    // script(1) runs the line with $SHELL, /bin/sh when unset (as on CI): the
    // quoting above is bash's.
    env: { NO_COLOR: "1", SHELL: "/bin/bash" },
  }).spawn();
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const writer = child.stdin.getWriter();
  if (opts.input !== undefined) {
    // Type only once the prompt is on the terminal (a fixed delay raced a loaded
    // machine); a child that ended first shows in its exit code and output.
    await waitFor(() => stdout.text().includes(opts.waitFor ?? "Enter password: "), child.status);
    await writer.write(new TextEncoder().encode(opts.input)).catch(() => {});
    if (opts.mode === "pty") await new Promise((r) => setTimeout(r, 500));
  }
  await writer.close().catch(() => {});
  const status = await child.status;
  return { code: status.code, stdout: await stdout.done, stderr: await stderr.done };
}

/** Text read so far from `stream`, and a promise of all of it once it ends. */
function collect(stream: ReadableStream<Uint8Array>): { text(): string; done: Promise<string> } {
  const dec = new TextDecoder();
  let text = "";
  const done = (async () => {
    for await (const chunk of stream) text += dec.decode(chunk, { stream: true });
    return text + dec.decode();
  })();
  return { text: () => text, done };
}

/** Resolve once `ready()` holds, `ended` settles, or 60 s have passed. */
async function waitFor(ready: () => boolean, ended: Promise<unknown>): Promise<void> {
  let over = false;
  ended.then(() => over = true, () => over = true);
  for (let waited = 0; !ready() && !over && waited < 60_000; waited += 50) {
    await new Promise((r) => setTimeout(r, 50));
  }
}
