/**
 * The command registry: every command cli.ts can run, in the order --help lists them.
 */
import type { Command } from "./command.ts";

/** All commands, by name. */
export const COMMANDS: readonly Command[] = [];

/** The command with this name, or undefined. */
export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}
