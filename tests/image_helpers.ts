/**
 * Moved to `tests/fixtures/` (keys.ts, prng.ts, tree.ts, context.ts): re-exported
 * here only so tests written against this path on branches in flight still build.
 * New tests import `tests/fixtures/` directly; remove this file once none imports it.
 */
import type { Options } from "../lib/commands/options.ts";
import type { CommandContext } from "../lib/commands/command.ts";
import { testContext } from "./fixtures/context.ts";
export { KEY_HEX, OTHER_KEY_HEX } from "./fixtures/keys.ts";
export { pageLike } from "./fixtures/prng.ts";
export { makeTree, readTree, sameBytes } from "./fixtures/tree.ts";
export { runCommand as run } from "./fixtures/context.ts";

/** A command context (2 threads), its printed text into `log`. */
export function ctx(over: Partial<Options>, log: string[] = []): CommandContext {
  return testContext({ threads: 2, ...over }, { log });
}
