/**
 * `list-image`: the entries of an image with their original and stored sizes and
 * the tables they belong to, and the manifest summary. Chunks are verified
 * (checksum, and authentication when encrypted) but not decompressed.
 */
import process from "node:process";
import { CorruptionError } from "../errors.ts";
import { IMAGE_READ_OPTIONS } from "./options.ts";
import type { Command } from "./command.ts";
import { openImageOrXbstream } from "./open_source.ts";
import type { ImageSource } from "../image/source.ts";
import { imageWorkDir } from "./work_dir.ts";
import { serverField, tableRows } from "./report_fields.ts";
import { printXbstreamListing } from "../xbstream/list.ts";
import { reported } from "./run_report.ts";
import { formatBytes } from "../progress/reporter.ts";
import { type Manifest, MANIFEST_FILE, tablesByEntry } from "../core/manifest.ts";
import { tableOfPath } from "../names/table_path.ts";
import { printable } from "../names/printable.ts";
import { tableLabel } from "../core/label.ts";
import { describeBinlog } from "../server/binlog.ts";
import {
  BACKUP_END_FILE,
  type BackupEnd,
  type ChainFields,
  finalManifest,
  parseBackupEnd,
} from "../core/chain.ts";

/** One listed entry. */
interface Row {
  path: string;
  size: number;
  storedBytes: number;
  chunks: number;
  table?: string;
}

/** The list-image command. */
/** Every entry of `img` verified (the end entry decoded), one row each; closes `img`. */
async function readRows(
  img: ImageSource,
): Promise<{ rows: Row[]; end?: BackupEnd }> {
  const rows: Row[] = [];
  let end: BackupEnd | undefined;
  try {
    const tables = tablesByEntry(img.manifest);
    for await (const e of img.entries()) {
      if (e.path === BACKUP_END_FILE && e.size > 16 << 20) {
        throw new CorruptionError(`${img.name}: ${BACKUP_END_FILE} is too large`);
      }
      const parts: Uint8Array[] = [];
      for await (const c of e.data) {
        /* verified, not decoded (but the end entry) */
        if (e.path === BACKUP_END_FILE && c.length > 0) parts.push(c.slice());
      }
      if (e.path === BACKUP_END_FILE) end = parseBackupEnd(parts, img.name);
      rows.push({
        path: e.path,
        size: e.size,
        storedBytes: e.stats.storedBytes,
        chunks: e.stats.chunks,
        table: tables.get(e.path) ?? tableOfPath(e.path),
      });
    }
  } finally {
    await img.close();
  }
  return { rows, end };
}

export const listImageCommand: Command = {
  name: "list-image",
  summary: "list the entries of an image without extracting",
  usage: "--backup-image=FILE|- [--key-file=FILE] [--json]",
  help: "Prints the manifest summary (server, page size, checksum algorithm, tables) and one " +
    "line per entry: original size, stored size in the image, and the table it belongs to. " +
    "Every chunk is read and verified, none is decompressed.",
  // --backup-dir: MEB's working directory of image commands (the run log's meta/).
  options: ["backup-image", "backup-dir", ...IMAGE_READ_OPTIONS],
  run: reported("list-image", async (ctx, rep) => {
    const o = ctx.options;
    const image = o.backupImage!;
    const work = imageWorkDir(o); // made by openImageOrXbstream
    // a page-LSN image's last entry (small) completes the manifest: read it whole
    const img = await openImageOrXbstream(ctx, {
      mode: "check",
      decodeWhole: (p) => p === BACKUP_END_FILE,
    });
    if (work !== undefined) ctx.log?.openIn(work);
    if (img.kind === "xbstream") {
      const write = (t: string) => void process.stdout.write(t);
      const error = (m: string) => ctx.report.error(m);
      const out = { json: !!o.json, printJson: ctx.printJson, write, error };
      return await printXbstreamListing(img.bytes, img.name, out, ctx.signal);
    }
    const { rows, end } = await readRows(img);
    const m = end ? finalManifest(img.manifest, end) : img.manifest;
    const sizes = new Map(rows.map((r) => [r.path, r.size]));
    const summary = {
      image,
      encrypted: img.header.encrypted,
      compressed: rows.some((r) => r.storedBytes < r.size),
      chunkSize: img.header.chunkSize,
      createdAt: m.createdAt,
      tool: m.tool,
      server: serverField(m.server),
      databases: m.databases?.map((d) => d.name) ?? [],
      tables: tableRows(
        m.tables ?? [],
        (p) => sizes.get(p),
        m.server?.pageSize ?? 16384,
        "listed",
      ),
      objects: m.objects?.map((x) => ({ kind: x.kind, database: x.database, name: x.name })) ?? [],
      skipped: m.skipped ?? [],
      binlog: m.binlog ?? null,
      ...backupKind(m),
      entries: rows.map((r) => ({ ...r, ...deltaPages(r, m.server?.pageSize) })),
      totals: {
        tables: m.tables?.length ?? 0,
        bytes: rows.reduce((n, r) => n + r.size, 0),
        ...img.end,
      },
    };
    if (o.json) return rep.finish("ok", summary);
    const out: string[] = [];
    out.push(
      `image: ${img.name} (${summary.encrypted ? "encrypted" : "not encrypted"}, ` +
        `chunks of ${formatBytes(summary.chunkSize)})`,
    );
    out.push(`created: ${m.createdAt} by ${m.tool?.name} ${m.tool?.version}`);
    if (m.server) {
      out.push(
        `server: ${m.server.flavor} ${m.server.version}, page size ${m.server.pageSize}, ` +
          `checksum ${m.server.checksumAlgorithm}`,
      );
    } else out.push("server: none (a directory imaged as plain files)");
    out.push(
      `databases: ${summary.databases.length}, tables: ${summary.tables.length}, ` +
        `entries: ${rows.length}` +
        ` (+ ${MANIFEST_FILE})`,
    );
    const objects = m.objects ?? [];
    if (objects.length) {
      const count = (k: string) => objects.filter((x) => x.kind === k).length;
      out.push(
        `objects: ${count("view")} view(s), ${count("procedure")} procedure(s), ` +
          `${count("function")} function(s), ${count("trigger")} trigger(s), ${
            count("event")
          } event(s)`,
      );
    }
    for (const s of m.skipped ?? []) {
      out.push(`skipped: ${s.kind} ${tableLabel(s.database, s.name)}: ${s.reason}`);
    }
    out.push(`binlog position: ${m.binlog ? describeBinlog(m.binlog) : "not recorded"}`);
    const k = backupKind(m);
    out.push(
      `backup: ${k.kind}${k.id ? ` ${k.id}` : ""}` +
        (k.base ? `, continues ${k.base.id} (end LSN ${k.base.endLsn})` : "") +
        (k.useTts ? `, ${k.useTts}` : ""),
    );
    out.push("");
    const w = Math.max(4, ...rows.map((r) => String(r.size).length));
    out.push(`${"size".padStart(w)}  ${"stored".padStart(w)}  entry  [table]`);
    for (const r of rows) {
      out.push(
        `${String(r.size).padStart(w)}  ${String(r.storedBytes).padStart(w)}  ${r.path}` +
          (r.table ? `  ${r.table}` : "") + pagesNote(r, m.server?.pageSize),
      );
    }
    if (img.end) {
      out.push(
        `total: ${img.end.rawBytes} bytes in ${img.end.chunks} chunks, ` +
          `${img.end.storedBytes} stored`,
      );
    }
    // Names and versions come from the image: each line is printed inert.
    process.stdout.write(out.map(printable).join("\n") + "\n");
    return rep.finish("ok", summary);
  }),
};

/** The kind of backup (full or incremental), its id and base, as its manifest says. */
function backupKind(m: Manifest): {
  kind: string;
  id?: string;
  base?: { id: string; endLsn: string };
  useTts?: string;
} {
  const c: ChainFields = m;
  return {
    kind: c.kind ?? "full",
    ...(c.id ? { id: c.id } : {}),
    ...(c.base ? { base: c.base } : {}),
    ...(typeof m.options?.useTts === "string" ? { useTts: m.options.useTts } : {}),
  };
}

/**
 * Pages of an entry: a tablespace's size in pages, a delta's pages (its size less
 * the header, run headers and end record: exact while runs are fewer than pageSize/16).
 */
function deltaPages(r: Row, pageSize?: number): { pages?: number } {
  if (!pageSize) return {};
  if (r.path.endsWith(".ibd.delta")) return { pages: Math.floor((r.size - 56) / (pageSize + 16)) };
  if (r.path.endsWith(".ibd")) return { pages: Math.floor(r.size / pageSize) };
  return {};
}

function pagesNote(r: Row, pageSize?: number): string {
  const p = deltaPages(r, pageSize).pages;
  if (p === undefined) return "";
  return r.path.endsWith(".delta") ? `  (~${p} pages)` : `  (${p} pages)`;
}
