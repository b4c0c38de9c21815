/**
 * Telling an xbstream from an ibvault image by its first bytes without losing
 * them: the source's first chunk is looked at and handed on first, so a pipe
 * (stdin) can be sniffed as well as a file.
 */
import { isXbstreamMagic } from "./format.ts";

/** A byte source whose first bytes were looked at, still complete. */
export interface Sniffed {
  /** True when the source starts with the xbstream chunk magic `XBSTCK01`. */
  xbstream: boolean;
  /** The whole source, first chunk included. */
  bytes: AsyncIterable<Uint8Array>;
}

/**
 * Look at the start of `source` (whose chunks may be reused buffers: the first
 * one is handed on before the next is read).
 */
export async function sniffSource(source: AsyncIterable<Uint8Array>): Promise<Sniffed> {
  const it = source[Symbol.asyncIterator]();
  const pending: Uint8Array[] = [];
  let head = new Uint8Array(0);
  let done = false;
  while (head.length < 8) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    // Keep a copy: a reused buffer would change under us while we read ahead.
    const copy = r.value.slice();
    pending.push(copy);
    const joined = new Uint8Array(head.length + copy.length);
    joined.set(head);
    joined.set(copy, head.length);
    head = joined;
  }
  async function* replay(): AsyncGenerator<Uint8Array> {
    try {
      for (const p of pending) yield p;
      if (done) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await it.return?.();
    }
  }
  return { xbstream: isXbstreamMagic(head), bytes: replay() };
}
