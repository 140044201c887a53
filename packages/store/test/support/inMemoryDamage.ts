import type { EventStore } from "@cloudsession/store";
import type { StoredEventRow, StreamDamage, StreamDamager } from "@cloudsession/store/testing";
import { inMemoryStreamsOf, type InMemoryStream } from "../../src/inMemoryStore.js";

/**
 * Damages an in-memory store's streams through its internals, the way the SQL damager does through
 * SQL, so the in-memory adapter runs the same damage conformance tests. A stream row cannot be
 * deleted apart from its events there (they live inside it), so `deleteStreamRow` is left out.
 * Only the stream's own rows change; the global log `readAll` pages keeps what it had.
 */
export function inMemoryStreamDamager(store: EventStore): StreamDamager {
  const streamOf = (streamId: string): InMemoryStream => {
    const stream = inMemoryStreamsOf(store)?.get(streamId);
    if (stream === undefined) throw new Error(`no in-memory stream ${streamId}`);
    return stream;
  };
  const indexOf = (stream: InMemoryStream, version: number): number => stream.rows.findIndex((row) => row.version === version);
  const nextPosition = (): number => Math.max(0, ...[...(inMemoryStreamsOf(store)?.values() ?? [])].flatMap((stream) => stream.rows.map((row) => Number(row.position)))) + 1;

  function apply(streamId: string, damage: StreamDamage): void {
    const stream = streamOf(streamId);
    const rows = stream.rows;
    switch (damage.kind) {
      case "deleteEvents":
        for (const version of damage.versions) if (indexOf(stream, version) >= 0) rows.splice(indexOf(stream, version), 1);
        return;
      case "duplicateEvent": {
        const index = indexOf(stream, damage.version);
        const row = rows[index];
        if (row !== undefined) rows.splice(index + 1, 0, { ...row, position: nextPosition() });
        return;
      }
      case "swapEvents": {
        // Rows stay in version order (as a SQL read returns them); each takes the other's version.
        const [first, second] = damage.versions.map((version) => indexOf(stream, version));
        const a = rows[first ?? -1];
        const b = rows[second ?? -1];
        if (a === undefined || b === undefined || first === undefined || second === undefined) return;
        rows[first] = { ...b, version: a.version };
        rows[second] = { ...a, version: b.version };
        return;
      }
      case "truncateTail":
        rows.splice(damage.keep);
        if (damage.moveStreamRow === true) stream.version = damage.keep;
        // As on SQL stores, a stream cut to nothing together with its row is simply gone.
        if (damage.moveStreamRow === true && damage.keep === 0) inMemoryStreamsOf(store)?.delete(streamId);
        return;
      case "corruptEvent": {
        const index = indexOf(stream, damage.version);
        const row = rows[index];
        if (row !== undefined) rows[index] = { ...row, [damage.column ?? "data"]: "{not json" };
        return;
      }
      case "moveStreamRow":
        stream.version += damage.by;
        return;
      case "deleteStreamRow":
        throw new Error("the in-memory store keeps events inside their stream: no stream row to delete");
    }
  }

  return {
    kinds: ["deleteEvents", "duplicateEvent", "swapEvents", "truncateTail", "corruptEvent", "moveStreamRow"],
    apply: (streamId, damage) => {
      apply(streamId, damage);
      return Promise.resolve();
    },
    storedRows: (streamId): Promise<readonly StoredEventRow[]> =>
      Promise.resolve(
        [...streamOf(streamId).rows]
          .map((row) => ({ position: Number(row.position), version: Number(row.version), type: String(row.type), data: String(row.data), metadata: String(row.metadata) }))
          .sort((a, b) => a.position - b.position),
      ),
  };
}
