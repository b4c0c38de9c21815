/**
 * Codec worker (a `node:worker_threads` entry point): encodes and decodes image
 * records with `chunk_codec.ts`, several at once so WebCrypto keeps chunks in
 * flight. Messages are described in `codec_pool.ts`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type CodecKeys, decodeRecord, encodeRecord, importCodecKeys } from "./chunk_codec.ts";
import { type CodecJob, type CodecReply, type CodecWorkerData, ownedBuffer } from "./codec_pool.ts";

const init = workerData as CodecWorkerData;
const keysReady: Promise<CodecKeys | undefined> = init.enc && init.mac
  ? importCodecKeys(init.enc, init.mac)
  : Promise.resolve(undefined);

async function handle(job: CodecJob): Promise<CodecReply> {
  const keys = await keysReady;
  try {
    if (job.op === "encode") {
      const r = await encodeRecord(job.rec, new Uint8Array(job.data), init.compress, keys);
      return {
        id: job.id,
        ok: true,
        data: ownedBuffer(r.record),
        compressed: false,
        rawCrc: r.rawCrc,
      };
    }
    const d = await decodeRecord(new Uint8Array(job.data), job.rec, job.mode, keys);
    return {
      id: job.id,
      ok: true,
      data: ownedBuffer(d.data),
      compressed: d.compressed,
      rawCrc: d.rawCrc,
    };
  } catch (e) {
    const err = e as Error;
    return { id: job.id, ok: false, errorName: err.name, message: err.message };
  }
}

parentPort!.on("message", (job: CodecJob) => {
  handle(job).then((reply) => {
    if (reply.ok) parentPort!.postMessage(reply, [reply.data]);
    else parentPort!.postMessage(reply);
  });
});
