/**
 * Listing an xbstream: every path with its size, the bytes and chunks it takes
 * in the stream and the Unicode table it belongs to, after the same container
 * checks as validation (CRC-32s, offsets, end-of-file chunks, safe paths).
 */
import { tableOfPath } from "../names/table_path.ts";
import { readXbstream } from "./reader.ts";

/** One listed path. */
export interface XbRow {
  path: string;
  size: number;
  storedBytes: number;
  chunks: number;
  table?: string;
}

/** The listing and what the checks found. */
export interface XbListing {
  rows: XbRow[];
  problems: string[];
  chunks: number;
  bytes: number;
}

/** Read the whole stream and list it. */
export async function listXbstream(
  source: AsyncIterable<Uint8Array>,
  opts: { name?: string; signal?: AbortSignal } = {},
): Promise<XbListing> {
  const problems: string[] = [];
  const s = await readXbstream(source, { problem: (m) => problems.push(m) }, opts);
  if (s.damaged) problems.push(s.damaged);
  return {
    rows: s.files.map((f) => ({
      path: f.path,
      size: f.size,
      storedBytes: f.storedBytes,
      chunks: f.chunks,
      table: tableOfPath(f.path),
    })),
    problems,
    chunks: s.chunks,
    bytes: s.bytes,
  };
}

/** Where {@link printXbstreamListing} writes. */
export interface ListOutput {
  json: boolean;
  printJson(value: unknown): void;
  write(text: string): void;
  error(message: string): void;
}

/** List the stream for `list-image` (text or `--json`); returns the exit code (1 on findings). */
export async function printXbstreamListing(
  source: AsyncIterable<Uint8Array>,
  name: string,
  out: ListOutput,
  signal?: AbortSignal,
): Promise<number> {
  const l = await listXbstream(source, { name, signal });
  if (out.json) {
    out.printJson({
      image: name,
      format: "xbstream",
      entries: l.rows,
      totals: { chunks: l.chunks, bytes: l.bytes },
      problems: l.problems,
    });
  } else {
    const lines = [`image: ${name} (xbstream, ${l.chunks} chunks, ${l.rows.length} files)`, ""];
    const w = Math.max(4, ...l.rows.map((r) => String(r.size).length));
    lines.push(`${"size".padStart(w)}  ${"stored".padStart(w)}  entry  [table]`);
    for (const r of l.rows) {
      lines.push(
        `${String(r.size).padStart(w)}  ${String(r.storedBytes).padStart(w)}  ${r.path}` +
          (r.table ? `  ${r.table}` : ""),
      );
    }
    lines.push(`total: ${l.bytes} bytes in ${l.chunks} chunks`);
    out.write(lines.join("\n") + "\n");
  }
  for (const p of l.problems) out.error(p);
  return l.problems.length ? 1 : 0;
}
