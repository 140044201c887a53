import type { ScriptTarget, TurnKind } from "./localScript.js";
import type { ChatScript } from "./capiStub.js";
import { stopClient, type RealRuntime } from "./realRuntime.js";

/** Replies the stub streams: a short one, and a long slow one that the script aborts mid-stream. */
export const STUB_REPLIES: Readonly<Record<TurnKind, ChatScript>> = {
  short: { text: "Hello from the stub model.", chunkDelayMs: 5 },
  long: { text: "Once upon a time there was a very long story that never quite managed to end. ".repeat(8), chunkDelayMs: 150 },
};

/** The local-session script's target backed by the real bundled runtime. */
export function realScriptTarget(runtime: RealRuntime): ScriptTarget {
  return {
    newClient: () => runtime.newClient(),
    prepareTurn: (kind) => { runtime.stub.setChatScript(STUB_REPLIES[kind]); },
    stopClient: (client) => stopClient(client),
    readStoredLog: (sessionId) => runtime.storedLog(sessionId),
  };
}
