/**
 * The command registry: every command cli.ts can run, in the order --help lists them.
 */
import type { Command } from "./command.ts";
import { backupCommand } from "./backup.ts";
import { backupToImageCommand } from "./backup_to_image.ts";
import { validateCommand } from "./validate.ts";
import { listImageCommand } from "./list_image.ts";
import { extractCommand } from "./extract.ts";
import { imageToBackupDirCommand } from "./image_to_backup_dir.ts";
import { backupDirToImageCommand } from "./backup_dir_to_image.ts";
import { copyBackCommand } from "./copy_back.ts";
import { purgeBackupsCommand } from "./purge_backups.ts";
import { checkBackupCommand } from "./check_backup.ts";
import { applyIncrementalBackupCommand } from "./apply_incremental_backup.ts";
import { applyLogCommand, backupAndApplyLogCommand, copyBackAndApplyLogCommand } from "./meb.ts";

/** All commands, by name. */
export const COMMANDS: readonly Command[] = [
  backupCommand,
  backupToImageCommand,
  validateCommand,
  listImageCommand,
  extractCommand,
  imageToBackupDirCommand,
  backupDirToImageCommand,
  copyBackCommand,
  applyIncrementalBackupCommand,
  purgeBackupsCommand,
  checkBackupCommand,
  copyBackAndApplyLogCommand,
  applyLogCommand,
  backupAndApplyLogCommand,
];

/** The command with this name, or undefined. */
export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}
