import type { Rng } from "./rng.js";

/** Where in a turn (or resume) the real runtime streams its extra ephemeral events. */
export type NoiseStage =
  | "turn.prelude"
  | "turn.beforeTurnStart"
  | "turn.afterTurnStart"
  | "turn.beforeDelta"
  | "turn.beforeMessage"
  | "turn.afterMessage"
  | "turn.afterTurnEnd"
  | "abort.afterAbort"
  | "abort.afterAssistantIdle"
  | "resume";

/** What the stages need to fill in the data the real events carry. */
export interface NoiseContext {
  readonly turn: number;
  readonly interactionId: string;
  readonly text: string;
  /** Bytes of reply streamed so far (for `assistant.streaming_delta`). */
  readonly streamedBytes: number;
  readonly apiCallId: string;
  readonly rng: Rng;
}

/** One event to emit: type and data. */
export type NoiseEvent = readonly [type: string, data: Readonly<Record<string, unknown>>];

// The runtime's default model, which it calls whatever /models lists (docs/real-runtime.md, fact 11).
const MODEL = "claude-sonnet-4";
const MODEL_INFO = {
  id: MODEL,
  name: MODEL,
  capabilities: { supports: { vision: false, adaptive_thinking: "unsupported" }, limits: { max_prompt_tokens: 128000, max_context_window_tokens: 200000 } },
  supported_endpoints: ["/chat/completions"],
};
const MCP_ERROR = "failed to initialize MCP client: transport failure during send initialize request: unexpected server response: HTTP 404 Not Found";
const MCP_FAILED = { serverName: "github-mcp-server", status: "failed", error: MCP_ERROR };
const MCP_PENDING = { serverName: "github-mcp-server", status: "pending" };
const modelCall = (apiCallId: string) => ({ model: MODEL, api_id: apiCallId, api_endpoint: "/chat/completions", rte: false, initiator: "user", transport: "http" });

/**
 * The ephemeral events the real runtime adds at `stage`, with the data keys recorded in
 * `packages/fidelity/fixtures` (values simplified). `agent.interrupted` and most `model.*` types are
 * outside the SDK's `SessionEvent` union (docs/real-runtime.md, fact 7).
 */
export function noiseFor(stage: NoiseStage, ctx: NoiseContext): NoiseEvent[] {
  const turn = ctx.turn - 1; // The runtime counts from 0.
  switch (stage) {
    case "turn.prelude":
      return [
        ["pending_messages.modified", {}],
        ["session.skills_loaded", { skills: [] }],
        ["session.mcp_server_status_changed", MCP_PENDING],
        ["session.mcp_servers_loaded", { servers: [{ name: "github-mcp-server", status: "failed", source: "builtin", error: MCP_ERROR }] }],
        ["session.mcp_server_status_changed", MCP_FAILED],
        ["session.tools_updated", { model: MODEL }],
      ];
    case "turn.beforeTurnStart":
      return [["model.turn_started", { kind: "turn_started", model: MODEL, modelInfo: MODEL_INFO, turn, timestampMs: 0 }]];
    case "turn.afterTurnStart":
      return [
        ["model.log", { kind: "log", level: "debug", message: "Model does not support vision, skipping image processing" }],
        ["model.call_start", { turnId: "0", model: MODEL }],
        ["model.model_call_started", { kind: "model_call_started", model: MODEL, modelInfo: MODEL_INFO }],
      ];
    case "turn.beforeDelta":
      return [["assistant.streaming_delta", { totalResponseSizeBytes: ctx.streamedBytes }]];
    case "turn.beforeMessage": {
      // These three came in a different order from run to run.
      const trio: NoiseEvent[] = [
        ["model.call_finished", { turnId: "0", dispatchDurationMs: 0, outcome: "success", interactionId: ctx.interactionId }],
        ["model.model_call_success", { kind: "model_call_success", turn, modelCallDurationMs: 0, modelCall: modelCall(ctx.apiCallId) }],
        ["model.message", { kind: "message", turn, modelCall: modelCall(ctx.apiCallId), message: { content: ctx.text, role: "assistant" } }],
      ];
      return [["assistant.usage", usage(ctx.apiCallId)], ...shuffle(trio, ctx.rng)];
    }
    case "turn.afterMessage":
      return [
        ["model.response", { kind: "response", turn, modelCall: { model: MODEL, api_id: ctx.apiCallId }, response: { content: ctx.text, role: "assistant" } }],
        ["model.turn_ended", { kind: "turn_ended", model: MODEL, modelInfo: MODEL_INFO, turn, timestampMs: 0 }],
      ];
    case "turn.afterTurnEnd":
      return [["model.messages_snapshot", { kind: "messages_snapshot", messages: [{ role: "assistant", content: ctx.text }] }]];
    case "abort.afterAbort":
      return [
        ["pending_messages.modified", {}],
        ["agent.interrupted", { activity: "model_call", turn, elapsedMs: 0, model: MODEL, apiEndpoint: "/chat/completions", transport: "http", cancelPhase: "mid_stream", outputTtftMs: 0 }],
        ["model.call_finished", { turnId: "0", dispatchDurationMs: 0, outcome: "cancelled", interactionId: ctx.interactionId }],
      ];
    case "abort.afterAssistantIdle":
      return [
        ["model.telemetry", { kind: "telemetry", telemetry: { event: "model_call_cancelled", properties: { api_endpoint: "/chat/completions", cancellation_source: "abort_signal" } } }],
        ["model.turn_failed", { kind: "turn_failed", model: MODEL, modelInfo: MODEL_INFO, turn, timestampMs: 0, error: "Request was aborted." }],
        ["model.turn_ended", { kind: "turn_ended", model: MODEL, modelInfo: MODEL_INFO, turn, timestampMs: 0 }],
      ];
    case "resume":
      return [
        ["session.managed_settings_resolved", { source: "none", serverManaged: false, deviceManaged: false, clientManaged: false, managedKeys: [] }],
        ["pending_messages.modified", {}],
        ["session.mcp_server_status_changed", MCP_PENDING],
        ["session.mcp_server_status_changed", MCP_FAILED],
      ];
  }
}

function usage(apiCallId: string): Record<string, unknown> {
  return {
    model: MODEL,
    inputTokens: 0,
    outputTokens: 0,
    cost: 0,
    duration: 0,
    initiator: "user",
    interactionType: "conversation-agent",
    transport: "http",
    apiCallId,
    apiEndpoint: "/chat/completions",
    finishReason: "stop",
  };
}

function shuffle<T>(items: readonly T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
