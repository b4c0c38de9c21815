/**
 * The manifest as untrusted input. Images are not authenticated unless encrypted,
 * and a backup directory's manifest is a plain file, so before anything uses a
 * manifest it is bounded and checked here, once, on read:
 *
 * - size: at most {@link MAX_MANIFEST_SIZE} bytes;
 * - shape while the bytes arrive ({@link ManifestScanner}): nesting at most
 *   {@link MAX_MANIFEST_DEPTH} deep and no JSON string longer than
 *   {@link MAX_MANIFEST_STRING} bytes, so a hostile value is refused at its first
 *   offending byte instead of being parsed (a deeply nested value made the
 *   runtime's JSON parser use gigabytes and overflow its stack);
 * - text: valid UTF-8;
 * - schema ({@link validateManifest}): every field the code reads has its type,
 *   paths are safe entry paths, sizes and checksums are well formed.
 *
 * Every failure is a CorruptionError "damaged manifest: <what>" (exit 1).
 * Fields this version does not know are kept as they are (newer writers may add
 * some); the fields of the shared contract (`id`, `kind`, `base`, `endLsn`) are
 * checked when present.
 */
import { CorruptionError } from "../errors.ts";
import { entryPathProblem } from "./entry_path.ts";
import { printable } from "../names/printable.ts";
import type { Manifest } from "./manifest.ts";

/**
 * Largest manifest accepted, in bytes. What a real manifest needs: about 0.4 KiB
 * per table plus its CREATE statement (typically 0.3 to 3 KiB) and 0.1 KiB per
 * file; 32 MiB holds 10,000 tables with long definitions and more than 50,000
 * ordinary ones, and reading it stays under 100 MB of memory.
 */
export const MAX_MANIFEST_SIZE = 32 << 20;

/** Deepest nesting of arrays and objects accepted (a real manifest has 4). */
export const MAX_MANIFEST_DEPTH = 16;

/** Longest JSON string accepted, in bytes (the longest real ones are CREATE statements). */
export const MAX_MANIFEST_STRING = 4 << 20;

/** A CorruptionError "`where`: damaged manifest: `what`". */
export function damagedManifest(where: string, what: string): CorruptionError {
  return new CorruptionError(`${where}: damaged manifest: ${what}`);
}

/**
 * Checks a manifest's bytes as they arrive, without parsing them: size, nesting
 * depth and string lengths. JSON's structural characters are ASCII and never
 * occur inside a multi-byte UTF-8 sequence, so bytes can be scanned as they are.
 */
export class ManifestScanner {
  #depth = 0;
  #inString = false;
  #escaped = false;
  #stringBytes = 0;
  #size = 0;

  /** `where` names the manifest in errors. */
  constructor(readonly where: string) {}

  /** Check the size the container declares for the manifest, before anything is read or allocated. */
  declare(size: number): void {
    if (size > MAX_MANIFEST_SIZE) {
      throw damagedManifest(
        this.where,
        `declared size ${size} is larger than ${MAX_MANIFEST_SIZE} bytes`,
      );
    }
  }

  /** Scan the next bytes; throws "damaged manifest" at the first offending byte. */
  feed(bytes: Uint8Array): void {
    this.#size += bytes.length;
    if (this.#size > MAX_MANIFEST_SIZE) {
      throw damagedManifest(this.where, `larger than ${MAX_MANIFEST_SIZE} bytes`);
    }
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (this.#inString) {
        if (++this.#stringBytes > MAX_MANIFEST_STRING) {
          throw damagedManifest(this.where, `a string longer than ${MAX_MANIFEST_STRING} bytes`);
        }
        if (this.#escaped) this.#escaped = false;
        else if (b === 0x5c) this.#escaped = true; // backslash
        else if (b === 0x22) this.#inString = false; // quote
      } else if (b === 0x22) {
        this.#inString = true;
        this.#stringBytes = 0;
      } else if (b === 0x5b || b === 0x7b) { // [ {
        if (++this.#depth > MAX_MANIFEST_DEPTH) {
          throw damagedManifest(
            this.where,
            `nested more than ${MAX_MANIFEST_DEPTH} deep (at byte ${
              this.#size - bytes.length + i
            })`,
          );
        }
      } else if (b === 0x5d || b === 0x7d) { // ] }
        this.#depth--;
      }
    }
  }
}

/** The parts joined into one array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Parse and validate a whole manifest: size, nesting, UTF-8, JSON, schema.
 * `where` names it in errors (an image or a directory's manifest file).
 */
export function readManifestBytes(bytes: Uint8Array, where: string): Manifest {
  new ManifestScanner(where).feed(bytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw damagedManifest(where, "not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw damagedManifest(where, `not valid JSON (${printable((e as Error).message)})`);
  }
  return validateManifest(value, where);
}

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Checks one manifest, collecting the path of the field being looked at. */
class Checker {
  constructor(readonly where: string) {}

  fail(path: string, what: string): never {
    throw damagedManifest(this.where, `${path} ${what}`);
  }

  object(v: unknown, path: string): Obj {
    if (!isObject(v)) this.fail(path, "is not an object");
    return v;
  }

  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, "is not a list");
    return v;
  }

  string(v: unknown, path: string, opts: { nonEmpty?: boolean; max?: number } = {}): string {
    if (typeof v !== "string") this.fail(path, "is not a string");
    if (opts.nonEmpty && v === "") this.fail(path, "is empty");
    if (opts.max !== undefined && v.length > opts.max) {
      this.fail(path, `is longer than ${opts.max} characters`);
    }
    return v;
  }

  optionalString(v: unknown, path: string): void {
    if (v !== undefined) this.string(v, path);
  }

  integer(v: unknown, path: string, min: number, max: number): number {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
      this.fail(path, `is not a whole number from ${min} to ${max}`);
    }
    return v;
  }

  entryPath(v: unknown, path: string): string {
    const p = this.string(v, path);
    const problem = entryPathProblem(p);
    if (problem) {
      this.fail(path, `is not a safe entry path (${`"${printable(p)}"`}: ${problem})`);
    }
    return p;
  }

  decimal(v: unknown, path: string): void {
    if (typeof v !== "string" || !/^(0|[1-9][0-9]{0,19})$/.test(v)) {
      this.fail(path, "is not a decimal number in a string");
    }
  }
}

/** Identifier lengths are bounded by MySQL (64 characters); this leaves room for encodings. */
const MAX_NAME = 256;

/**
 * Check a parsed JSON value against the manifest schema and return it typed;
 * throws CorruptionError "`where`: damaged manifest: <field> <what is wrong>".
 */
export function validateManifest(value: unknown, where: string): Manifest {
  const c = new Checker(where);
  const m = c.object(value, "the document");
  if (m.format !== "ibvault-manifest") c.fail("format", 'is not "ibvault-manifest"');
  c.integer(m.version, "version", 1, 2);
  if (m.tool !== undefined) {
    const tool = c.object(m.tool, "tool");
    c.optionalString(tool.name, "tool.name");
    c.optionalString(tool.version, "tool.version");
  }
  c.string(m.createdAt, "createdAt", { max: 64 });
  if (m.options !== undefined) c.object(m.options, "options");
  if (m.server !== undefined) {
    const s = c.object(m.server, "server");
    if (s.flavor !== "mariadb" && s.flavor !== "mysql") {
      c.fail("server.flavor", 'is not "mariadb" or "mysql"');
    }
    c.string(s.version, "server.version", { max: 256 });
    const ps = c.integer(s.pageSize, "server.pageSize", 1024, 65536);
    if ((ps & (ps - 1)) !== 0) c.fail("server.pageSize", "is not a power of two");
    c.string(s.checksumAlgorithm, "server.checksumAlgorithm", { max: 64 });
    c.integer(s.lowerCaseTableNames, "server.lowerCaseTableNames", 0, 2);
  }
  const databases = c.array(m.databases, "databases");
  databases.forEach((d, i) => {
    const p = `databases[${i}]`;
    const db = c.object(d, p);
    c.string(db.name, `${p}.name`, { nonEmpty: true, max: MAX_NAME });
    c.entryPath(db.dir, `${p}.dir`);
    c.string(db.createStatement, `${p}.createStatement`);
  });
  const tables = c.array(m.tables, "tables");
  tables.forEach((t, i) => {
    const p = `tables[${i}]`;
    const tb = c.object(t, p);
    c.string(tb.database, `${p}.database`, { nonEmpty: true, max: MAX_NAME });
    c.string(tb.name, `${p}.name`, { nonEmpty: true, max: MAX_NAME });
    c.string(tb.engine, `${p}.engine`, { max: 64 });
    c.optionalString(tb.rowFormat, `${p}.rowFormat`);
    c.string(tb.createStatement, `${p}.createStatement`);
    c.array(tb.files, `${p}.files`).forEach((f, j) => c.entryPath(f, `${p}.files[${j}]`));
  });
  const entries = c.array(m.entries, "entries");
  const seen = new Set<string>();
  entries.forEach((e, i) => {
    const p = `entries[${i}]`;
    const en = c.object(e, p);
    const path = c.entryPath(en.path, `${p}.path`);
    if (seen.has(path)) c.fail(`${p}.path`, `repeats ${`"${printable(path)}"`}`);
    seen.add(path);
    c.integer(en.size, `${p}.size`, 0, Number.MAX_SAFE_INTEGER);
    if (typeof en.crc32c !== "string" || !/^[0-9a-f]{8}$/.test(en.crc32c)) {
      c.fail(`${p}.crc32c`, "is not 8 lowercase hexadecimal digits");
    }
  });
  // The shared contract for backup identity and chains (BRIEF): checked when present.
  if (m.id !== undefined) c.string(m.id, "id", { nonEmpty: true, max: 64 });
  if (m.kind !== undefined && m.kind !== "full" && m.kind !== "incremental") {
    c.fail("kind", 'is not "full" or "incremental"');
  }
  if (m.base !== undefined) {
    const b = c.object(m.base, "base");
    c.string(b.id, "base.id", { nonEmpty: true, max: 64 });
    c.decimal(b.endLsn, "base.endLsn");
  }
  if (m.endLsn !== undefined) c.decimal(m.endLsn, "endLsn");
  if (m.plannedBytes !== undefined) {
    c.integer(m.plannedBytes, "plannedBytes", 0, Number.MAX_SAFE_INTEGER);
  }
  return m as unknown as Manifest;
}
