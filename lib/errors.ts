/**
 * Typed errors. Each carries what it concerns (file, entry, page, table) in its
 * message, and maps to one exit code (see DESIGN.md): usage 2, corruption 1,
 * everything else at run time 3.
 */

/** Base class: every ibvault error has an exit code. */
export class IbvaultError extends Error {
  /** Process exit code this error maps to. */
  readonly exitCode: number = 3;
}

/** The command line, an option file or an option value is wrong (exit 2). */
export class UsageError extends IbvaultError {
  override readonly exitCode = 2;
  override name = "UsageError";
}

/** Data failed a checksum, a MAC, or a structural check (exit 1). */
export class CorruptionError extends IbvaultError {
  override readonly exitCode = 1;
  override name = "CorruptionError";
}

/** A key is missing, malformed, or does not open the data (exit 3). */
export class KeyError extends IbvaultError {
  override readonly exitCode = 3;
  override name = "KeyError";
}

/** The server refused, failed or went away (exit 3). */
export class ServerError extends IbvaultError {
  override readonly exitCode = 3;
  override name = "ServerError";
}

/** A file-system or stream operation failed (exit 3). */
export class IoError extends IbvaultError {
  override readonly exitCode = 3;
  override name = "IoError";
}

/** Exit code for any thrown value: typed errors say theirs, the rest are runtime (3). */
export function exitCodeOf(err: unknown): number {
  return err instanceof IbvaultError ? err.exitCode : 3;
}
