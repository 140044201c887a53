import { CopilotClient, RuntimeConnection } from "@github/copilot-sdk";
import type { ScenarioInput, Simulator } from "@cloudsession/simulator";
import type { ScriptTarget } from "./localScript.js";
import { SCRIPT_PROMPTS } from "./localScript.js";
import { STUB_REPLIES } from "./realScriptTarget.js";
import { stopClient } from "./realRuntime.js";

/**
 * The simulator scenario that plays the stub's part: the same replies, and chunks slow enough
 * (50 ms real) that the script can abort the long reply after three deltas.
 */
export const SIMULATOR_SCENARIO: ScenarioInput = {
  seed: 7,
  timeScale: 0.01,
  defaults: {
    reply: { [SCRIPT_PROMPTS.aborted]: STUB_REPLIES.long.text, "*": STUB_REPLIES.short.text },
    thinkLatencyMs: [500, 500],
    chunkLatencyMs: [5_000, 5_000],
  },
};

/** The local-session script's target backed by the simulator, reached over `forUri` like the engine does. */
export function simulatorScriptTarget(simulator: Simulator): ScriptTarget {
  return {
    async newClient() {
      const client = new CopilotClient({ connection: RuntimeConnection.forUri(simulator.url) });
      await client.start();
      return client;
    },
    prepareTurn: () => undefined,
    stopClient: (client) => stopClient(client),
  };
}
