import { createEngine, type Engine } from "@cloudsession/engine";
import type { SessionSettingsInput } from "@cloudsession/machine";
import type { Simulator } from "@cloudsession/simulator";
import type { EventStore } from "@cloudsession/store";
import type { InspectionEvent } from "xstate";
import type { SessionInspector } from "./inspector/sessionInspector.js";
import type { RuntimeChoice } from "./runtimeChoice.js";
import { startBundledSimulator } from "./simulation.js";
import { openStoreAt, type StoreLocation } from "./storeLocation.js";
import { TransitionTap } from "./transitions.js";

export interface SessionEngineOptions {
  readonly store: StoreLocation;
  readonly runtime: RuntimeChoice;
  /** Real ms per simulated ms for the bundled simulator. */
  readonly timeScale: number;
  readonly timeouts?: Omit<SessionSettingsInput, "retry">;
  readonly inspector?: SessionInspector;
  /** Told about errors no session can report (printed as one line by the caller). */
  readonly onError: (error: unknown, session: string) => void;
}

/** An engine wired for the CLI: store, runtime (maybe an in-process simulator), transitions tap. */
export interface SessionEngine {
  readonly engine: Engine;
  readonly store: EventStore;
  readonly simulator: Simulator | undefined;
  /** Every session actor's transitions (for `--json` and the comparison with `replay`). */
  readonly tap: TransitionTap;
  /** Closes the engine (sessions left recoverable), the simulator and the store. */
  close(): Promise<void>;
}

/**
 * Opens the store, starts the bundled simulator when simulating, and creates the engine with an
 * `inspect` hook feeding the transitions tap (and the Stately inspector with `--inspect`).
 */
export async function openSessionEngine(options: SessionEngineOptions): Promise<SessionEngine> {
  const store = await openStoreAt(options.store);
  let simulator: Simulator | undefined;
  try {
    if (options.runtime.kind === "simulate") simulator = await startBundledSimulator(options.runtime.scenario, options.timeScale);
  } catch (error) {
    await store.close();
    throw error;
  }
  const tap = new TransitionTap();
  const inspector = options.inspector;
  const inspect = (event: InspectionEvent): void => {
    tap.inspect(event);
    inspector?.inspect(event);
  };
  const target =
    options.runtime.kind === "live"
      ? { clientOptions: {} }
      : { runtimeUrl: options.runtime.kind === "external" ? options.runtime.url : (simulator?.url ?? "") };
  const engine = createEngine({
    ...target,
    store,
    inspect,
    onError: options.onError,
    ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
  });
  return {
    engine,
    store,
    simulator,
    tap,
    async close() {
      await engine.close();
      await simulator?.close();
      await store.close();
    },
  };
}
