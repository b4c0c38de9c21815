/**
 * Asking for the password on the terminal, as the mysql client does for a bare
 * `--password` or `-p`: the prompt and the answer go through `/dev/tty` (so
 * stdin and stdout stay free for image streams), with echo off while typing.
 */
import { childProcess } from "../builtins.ts";
import { closeSync, createReadStream, openSync, writeSync } from "node:fs";
import { UsageError } from "../errors.ts";

/** Run `stty ARGS` on the controlling terminal; false when that is impossible. */
function stty(args: string): boolean {
  const r = childProcess().spawnSync("sh", ["-c", `stty ${args} < /dev/tty`], { stdio: "ignore" });
  return r.status === 0;
}

/**
 * Prompt for a password on the controlling terminal without echo and resolve to
 * the line typed (without its newline). Without a terminal this is a UsageError
 * saying how else to give the password; an abort of `signal` (SIGINT) ends the
 * prompt with echo restored.
 */
export async function promptPassword(
  signal?: AbortSignal,
  prompt = "Enter password: ",
): Promise<string> {
  let fd: number;
  try {
    fd = openSync("/dev/tty", "r+");
  } catch {
    throw new UsageError(
      "--password without a value asks for the password on the terminal, and there is none: " +
        "give --password=PW, or password=PW in an option file (--defaults-extra-file)",
    );
  }
  // Echo goes off before the prompt shows, so nothing typed at once is echoed.
  const silent = stty("-echo");
  try {
    writeSync(fd, prompt);
  } catch (e) {
    if (silent) stty("echo");
    throw e;
  } finally {
    closeSync(fd);
  }
  const input = createReadStream("/dev/tty");
  try {
    return await new Promise<string>((resolve, reject) => {
      let text = "";
      const onAbort = () => reject(signal?.reason ?? new Error("interrupted"));
      signal?.addEventListener("abort", onAbort, { once: true });
      input.on("data", (chunk) => {
        text += chunk.toString();
        const nl = text.search(/\r?\n/);
        if (nl >= 0) resolve(text.slice(0, nl));
      });
      input.on("end", () => resolve(text));
      input.on("error", (e) => reject(e));
    });
  } finally {
    input.destroy();
    if (silent) stty("echo");
    try {
      const out = openSync("/dev/tty", "w");
      writeSync(out, "\n");
      closeSync(out);
    } catch {
      // the terminal went away: nothing to tidy
    }
  }
}
