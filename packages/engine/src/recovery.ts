import type { ReadStreamResult } from "@cloudsession/store";
import { mapInOrder } from "./mapInOrder.js";
import { mapWithConcurrency } from "./mapWithConcurrency.js";
import type { RunnerEnvironment } from "./runnerEnvironment.js";
import type { SessionHandle } from "./sessionHandle.js";
import { asCorruptedLog, sessionLogOf } from "./sessionLogs.js";
import type { SessionRegistry } from "./sessionRegistry.js";
import { SessionRunner } from "./sessionRunner.js";

/** Logs read at once when a batch read fails, or followers catch up: enough to hide the store's round trips, few enough for a pool. */
export const READ_CONCURRENCY = 16;

/** Streams read per store call during recovery (one query on SQL stores, instead of one per session). */
const BATCH_SIZE = 250;
/** Batch reads in flight, so decoding one batch overlaps reading the next. */
const BATCHES_IN_FLIGHT = 2;

/**
 * Single instance: continues every open session in the store that is not running here yet, in the
 * store's order (oldest first), so the concurrency line stays first come, first served. Each
 * session is attached as soon as its log and every earlier one are in: reading overlaps
 * re-attaching. A log that cannot be read stops its own session only; it is reported.
 */
export async function recoverOpenSessions(env: RunnerEnvironment, registry: SessionRegistry, isClosed: () => boolean): Promise<SessionHandle[]> {
  const open = await env.store.listStreams({ status: "open" });
  const candidates = open.filter((summary) => summary.firstEventType === "session.requested" && !registry.has(summary.streamId));
  const batches: string[][] = [];
  for (let start = 0; start < candidates.length; start += BATCH_SIZE) batches.push(candidates.slice(start, start + BATCH_SIZE).map((summary) => summary.streamId));

  const restore = (stream: ReadStreamResult): SessionRunner | undefined => {
    try {
      return SessionRunner.restore(env, stream.streamId, sessionLogOf(stream));
    } catch (error) {
      // A damaged log is reported and left alone: nothing is done for it, nothing written to it.
      env.onBackgroundError(asCorruptedLog(error, stream.streamId), stream.streamId);
      return undefined;
    }
  };
  const loadBatch = async (ids: readonly string[]): Promise<(SessionRunner | undefined)[]> => {
    if (isClosed()) return [];
    try {
      return (await env.store.readStreams(ids)).map(restore);
    } catch {
      // One bad log (e.g. a corrupted event) fails the whole batch read: read its streams one by
      // one, so only the bad ones are reported and skipped.
      return mapWithConcurrency(ids, READ_CONCURRENCY, async (id) => {
        try {
          return restore(await env.store.readStream(id));
        } catch (error) {
          env.onBackgroundError(asCorruptedLog(error, id), id);
          return undefined;
        }
      });
    }
  };

  const recovered: SessionHandle[] = [];
  const attaching: Promise<void>[] = [];
  await mapInOrder(batches, BATCHES_IN_FLIGHT, loadBatch, (restored) => {
    for (const runner of restored) {
      // Resumed by hand while its log was read, or the engine closed meanwhile: not ours to start.
      if (runner === undefined || isClosed() || registry.has(runner.id)) continue;
      recovered.push(registry.track(runner));
      attaching.push(runner.attach());
    }
  });
  await Promise.all(attaching);
  return recovered;
}
