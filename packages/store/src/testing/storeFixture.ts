import { expect } from "vitest";
import type { EventStore } from "../eventStore.js";
import { isStoreError } from "../storeError.js";
import type { StreamDamager } from "./streamDamage.js";

/** A fresh, empty store plus how to dispose of it. */
export interface EventStoreFixture {
  readonly store: EventStore;
  /** Disposes of the store's data (drop a schema, delete a directory). Must tolerate a closed store. */
  cleanup(): Promise<void>;
  /**
   * Optional: overwrite the stored `data` of one event with text that is not JSON, so the suite can
   * check that corruption surfaces as `CORRUPTED_EVENT`. Backends that cannot corrupt leave it out.
   */
  readonly corruptEvent?: (streamId: string, version: number) => Promise<void>;
  /**
   * Optional: damages stored streams (rows deleted, repeated, swapped; a stream row out of step), so
   * the suite can check that reads report it as `CORRUPTED_LOG` and appends never hide it. SQL
   * stores pass `sqlStreamDamager(db, schema)`; backends that cannot be damaged leave it out.
   */
  readonly damage?: StreamDamager;
}

/** Makes a fresh, empty store for one test. Called once per test (and per property run). */
export type EventStoreFactory = () => Promise<EventStoreFixture>;

/** Tuning of the conformance suite. */
export interface ConformanceOptions {
  /** fast-check runs per property; default 15 (each run makes a fresh store). */
  readonly propertyRuns?: number;
}

/** Runs `body` on a fresh store from `factory`, then closes the store and cleans up, whatever happened. */
export async function withStore(factory: EventStoreFactory, body: (store: EventStore, fixture: EventStoreFixture) => Promise<void>): Promise<void> {
  const fixture = await factory();
  try {
    await body(fixture.store, fixture);
  } finally {
    await fixture.store.close();
    await fixture.cleanup();
  }
}

/** Expects `promise` to reject with a `StoreError` of `code`; returns that error. */
export async function expectStoreError(promise: Promise<unknown>, code: string): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(isStoreError(error), `expected a StoreError ${code}, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  return error as Error;
}
