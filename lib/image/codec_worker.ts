/**
 * Codec worker (a `node:worker_threads` entry point): encodes and decodes image
 * records with `chunk_codec.ts`, several at once so WebCrypto keeps chunks in
 * flight. Messages are described in `codec_pool.ts`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type CodecKeys, decodeRecord, encodeRecord, importCodecKeys } from "./chunk_codec.ts";
import { BufferPool } from "./buffers.ts";
import { type CodecJob, type CodecReply, type CodecWorkerData, ownedBuffer } from "./codec_pool.ts";

const init = workerData as CodecWorkerData;
const keysReady: Promise<CodecKeys | undefined> = init.enc && init.mac
  ? importCodecKeys(init.enc, init.mac)
  : Promise.resolve(undefined);

/** Spare output buffers sent with jobs, kept while no job needs them. */
const outs = new BufferPool(4);

async function handle(job: CodecJob): Promise<CodecReply> {
  const keys = await keysReady;
  const input = new Uint8Array(job.data, 0, job.len);
  try {
    if (job.op === "encode") {
      outs.give(job.out);
      const r = await encodeRecord(job.rec, input, init.compress, keys, (n) => {
        // A record of a DATA chunk never exceeds its raw length + 24 + 64 bytes:
        // allocate that, so the buffer fits any later chunk of the same size.
        const cap = Math.max(n, job.len + 128);
        return new Uint8Array(outs.takeFree(cap) ?? new ArrayBuffer(cap), 0, n);
      });
      return {
        id: job.id,
        ok: true,
        data: leading(r.record),
        len: r.record.length,
        compressed: false,
        zstd: false,
        rawCrc: r.rawCrc,
        spare: [job.data],
      };
    }
    outs.give(job.out);
    const d = await decodeRecord(
      input,
      job.rec,
      job.mode,
      keys,
      (n) => new Uint8Array(outs.takeFree(n) ?? new ArrayBuffer(n), 0, n),
    );
    const data = leading(d.data);
    return {
      id: job.id,
      ok: true,
      data,
      len: d.data.length,
      compressed: d.compressed,
      zstd: d.zstd,
      rawCrc: d.rawCrc,
      spare: data === job.data ? [] : [job.data],
    };
  } catch (e) {
    const err = e as Error;
    return { id: job.id, ok: false, errorName: err.name, message: err.message, spare: [] };
  }
}

/** The buffer to send for `v`: its own when `v` starts it, else a copy's. */
function leading(v: Uint8Array): ArrayBuffer {
  return v.byteOffset === 0 ? v.buffer as ArrayBuffer : ownedBuffer(v);
}

parentPort!.on("message", (job: CodecJob) => {
  handle(job).then((reply) => {
    const transfer = reply.spare.filter((b) => b.byteLength > 0);
    if (reply.ok) transfer.push(reply.data);
    parentPort!.postMessage(reply, [...new Set(transfer)]);
  });
});
