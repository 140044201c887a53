import { readFileSync } from "node:fs";
import type { FixtureEvent } from "./normalize.js";

/** The fixture files `scripts/record.ts` writes into `packages/fidelity/fixtures/`. */
export const FIXTURE_NAMES = [
  "local-create",
  "local-turn",
  "local-second-turn",
  "local-abort",
  "local-history",
  "local-stored-log",
  "local-resume",
  "local-history-after-resume",
] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number];

/** One recorded stream of the real runtime. */
export interface Fixture {
  readonly name: FixtureName;
  /** What the script did to get this stream. */
  readonly description: string;
  readonly recordedWith: { readonly sdk: string; readonly runtime: string; readonly protocolVersion: number; readonly platform: string };
  readonly events: readonly FixtureEvent[];
  /** Facts of the run that are not events (lifecycle notifications, send results, HTTP calls). */
  readonly notes?: Readonly<Record<string, unknown>>;
}

/** The directory holding the committed fixtures. */
export const FIXTURES_DIR = new URL("../fixtures/", import.meta.url);

/**
 * Loads a committed fixture.
 *
 * @example
 * const turn = loadFixture("local-turn");
 * turn.events.filter((e) => e.ephemeral !== true).map((e) => e.type);
 */
export function loadFixture(name: FixtureName): Fixture {
  return JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES_DIR), "utf8")) as Fixture;
}

/** Persisted events as `type` + sorted data keys: what the simulator must match exactly. */
export function persistedShape(events: readonly Pick<FixtureEvent, "type" | "ephemeral" | "dataKeys">[]): { type: string; dataKeys: readonly string[] }[] {
  return events.filter((event) => event.ephemeral !== true).map((event) => ({ type: event.type, dataKeys: event.dataKeys }));
}

/** Distinct ephemeral types, sorted. */
export function ephemeralTypes(events: readonly Pick<FixtureEvent, "type" | "ephemeral">[]): string[] {
  return [...new Set(events.filter((event) => event.ephemeral === true).map((event) => event.type))].sort();
}
