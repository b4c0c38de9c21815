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

/**
 * The connection to the server was lost (killed, shut down, network): nothing
 * more can be done on it, and locks it held are gone (exit 3).
 */
export class ConnectionLost extends ServerError {
  override name = "ConnectionLost";
}

/** A file-system or stream operation failed (exit 3). */
export class IoError extends IbvaultError {
  override readonly exitCode = 3;
  override name = "IoError";
}

/** An output could not be written (no space, permissions): it is not complete (exit 3). */
export class OutputError extends IoError {
  override name = "OutputError";
}

/**
 * A new error of the same kind as `err` (its class among the ones above) with
 * `message`, `err` as its cause (a value of no known kind: a plain runtime error).
 */
export function sameKind(err: unknown, message: string): IbvaultError {
  const options = { cause: err };
  if (err instanceof UsageError) return new UsageError(message, options);
  if (err instanceof CorruptionError) return new CorruptionError(message, options);
  if (err instanceof KeyError) return new KeyError(message, options);
  if (err instanceof ConnectionLost) return new ConnectionLost(message, options);
  if (err instanceof ServerError) return new ServerError(message, options);
  if (err instanceof OutputError) return new OutputError(message, options);
  if (err instanceof IoError) return new IoError(message, options);
  return new IbvaultError(message, options);
}

/** Exit code for any thrown value: typed errors say theirs, the rest are runtime (3). */
export function exitCodeOf(err: unknown): number {
  return err instanceof IbvaultError ? err.exitCode : 3;
}

/** An incremental chain does not hold together: wrong base, broken link, other server (exit 2). */
export class ChainError extends UsageError {
  override name = "ChainError";
}
