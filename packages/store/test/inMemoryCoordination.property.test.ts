import { createInMemoryStore, isStoreError, type EventStore, type Lease } from "@cloudsession/store";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const streams = ["s0", "s1", "s2", "s3"] as const;
const owners = ["a", "b", "c"] as const;

type Step =
  | { readonly kind: "create"; readonly stream: number; readonly final: boolean }
  | { readonly kind: "acquire"; readonly stream: number; readonly owner: number; readonly ttl: number }
  | { readonly kind: "claim"; readonly owner: number; readonly limit: number; readonly ttl: number }
  | { readonly kind: "renew"; readonly owner: number; readonly ttl: number }
  | { readonly kind: "release"; readonly owner: number }
  | { readonly kind: "append"; readonly owner: number; readonly stream: number }
  | { readonly kind: "tick"; readonly ms: number };

const stream = fc.integer({ min: 0, max: streams.length - 1 });
const owner = fc.integer({ min: 0, max: owners.length - 1 });
const ttl = fc.integer({ min: 1, max: 40 });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("create" as const), stream, final: fc.boolean() }),
  fc.record({ kind: fc.constant("acquire" as const), stream, owner, ttl }),
  fc.record({ kind: fc.constant("claim" as const), owner, limit: fc.integer({ min: 1, max: 3 }), ttl }),
  fc.record({ kind: fc.constant("renew" as const), owner, ttl }),
  fc.record({ kind: fc.constant("release" as const), owner }),
  fc.record({ kind: fc.constant("append" as const), owner, stream }),
  fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 30 }) }),
);

/** The model: the newest lease of each stream, as the contract says it should be. */
interface ModelLease {
  owner: string;
  token: number;
  expiresAt: number;
}

/**
 * Asks the store whether a fence is accepted without writing: the fence is checked before the
 * expected version, so an impossible expected version answers LEASE_LOST (refused) or
 * VERSION_CONFLICT (accepted) and never appends.
 */
async function accepted(store: EventStore, lease: Lease): Promise<boolean> {
  const error = await store.append(lease.streamId, [{ type: "Probe", data: {} }], { fence: lease, expectedVersion: 1_000_000 }).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (isStoreError(error, "LEASE_LOST")) return false;
  if (isStoreError(error, "VERSION_CONFLICT") || isStoreError(error, "STREAM_FINAL")) return true;
  throw new Error(`a probe must never append, got ${String(error)}`);
}

describe("in-memory coordination under random interleavings (simulated clock)", () => {
  it("at most one owner's fence is accepted per stream, it is the newest lease, and tokens only grow", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), async (steps) => {
        let time = 1_000;
        const store = createInMemoryStore({ now: () => time });
        const coordination = store.coordination!;
        const model = new Map<string, ModelLease>();
        const createdAt = new Map<string, number>();
        const final = new Set<string>();
        const issued: Lease[] = [];
        const held = (streamId: string): ModelLease | undefined => {
          const lease = model.get(streamId);
          return lease !== undefined && lease.expiresAt > time ? lease : undefined;
        };
        const record = (lease: Lease): void => {
          const previous = model.get(lease.streamId);
          expect(lease.token).toBeGreaterThan(previous?.token ?? 0);
          model.set(lease.streamId, { owner: lease.owner, token: lease.token, expiresAt: lease.expiresAt });
          issued.push(lease);
        };
        const newest = (who: string, streamId: string): Lease | undefined => issued.findLast((lease) => lease.owner === who && lease.streamId === streamId);
        try {
          for (const next of steps) {
            switch (next.kind) {
              case "create": {
                const id = streams[next.stream]!;
                if (final.has(id)) break;
                await store.append(id, [{ type: "Session", data: {} }], { markFinal: next.final });
                if (!createdAt.has(id)) createdAt.set(id, time);
                if (next.final) final.add(id);
                break;
              }
              case "acquire": {
                const id = streams[next.stream]!;
                const who = owners[next.owner]!;
                const lease = await coordination.acquire(id, who, next.ttl);
                const current = held(id);
                const expected = !final.has(id) && (current === undefined || current.owner === who);
                expect(lease !== null).toBe(expected);
                if (lease !== null) {
                  expect(lease).toMatchObject({ streamId: id, owner: who, expiresAt: time + next.ttl });
                  record(lease);
                }
                break;
              }
              case "claim": {
                const who = owners[next.owner]!;
                // Oldest first: creation time, then stream id.
                const free = [...createdAt]
                  .filter(([id]) => !final.has(id) && held(id) === undefined)
                  .sort(([a, at], [b, bt]) => at - bt || (a < b ? -1 : a > b ? 1 : 0))
                  .slice(0, next.limit)
                  .map(([id]) => id);
                const leases = await coordination.claim({ owner: who, ttlMs: next.ttl, limit: next.limit });
                expect(leases.map((lease) => lease.streamId)).toEqual(free);
                for (const lease of leases) record(lease);
                break;
              }
              case "renew": {
                const who = owners[next.owner]!;
                const mine = issued.filter((lease) => lease.owner === who);
                const renewed = await coordination.renew(mine, next.ttl);
                const expected = new Set(mine.filter((lease) => held(lease.streamId)?.token === lease.token && held(lease.streamId)?.owner === who).map((lease) => lease.streamId));
                expect(new Set(renewed.map((lease) => lease.streamId))).toEqual(expected);
                for (const lease of renewed) {
                  const entry = model.get(lease.streamId)!;
                  expect(lease.token).toBe(entry.token);
                  entry.expiresAt = time + next.ttl;
                }
                break;
              }
              case "release": {
                const who = owners[next.owner]!;
                const mine = issued.filter((lease) => lease.owner === who);
                await coordination.release(mine);
                for (const lease of mine) {
                  const entry = model.get(lease.streamId);
                  if (entry?.owner === who && entry.token === lease.token) entry.expiresAt = Number.NEGATIVE_INFINITY;
                }
                break;
              }
              case "append": {
                const id = streams[next.stream]!;
                const lease = newest(owners[next.owner]!, id);
                if (lease === undefined) break;
                const current = held(id);
                const holds = current !== undefined && current.owner === lease.owner && current.token === lease.token;
                const outcome = await store.append(id, [{ type: "Fenced", data: {} }], { fence: lease }).then(
                  () => "ok",
                  (error: unknown) => (isStoreError(error) ? error.code : String(error)),
                );
                expect(outcome).toBe(holds ? (final.has(id) ? "STREAM_FINAL" : "ok") : "LEASE_LOST");
                if (outcome === "ok" && !createdAt.has(id)) createdAt.set(id, time);
                break;
              }
              case "tick":
                time += next.ms;
                break;
            }
            // The invariant, probed without writing: per stream, at most one owner is accepted,
            // and it is exactly the newest lease while it has not lapsed.
            for (const id of streams) {
              const probes = issued.filter((lease) => lease.streamId === id);
              const acceptedOwners = new Set<string>();
              for (const lease of probes) if (await accepted(store, lease)) acceptedOwners.add(`${lease.owner}#${lease.token}`);
              expect(acceptedOwners.size).toBeLessThanOrEqual(1);
              const current = held(id);
              expect([...acceptedOwners]).toEqual(current === undefined ? [] : [`${current.owner}#${current.token}`]);
            }
          }
        } finally {
          await store.close();
        }
      }),
      { numRuns: 300 },
    );
  });
});
