import { createEngine, type Engine } from "@cloudsession/engine";
import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { afterEach, describe, expect, test } from "vitest";
import { WebSocket } from "ws";
import { startInspectorRelay, type InspectorRelay } from "../src/inspector/relay.js";
import { createSessionInspector } from "../src/inspector/sessionInspector.js";
import { canOpenBrowser } from "../src/inspector/openBrowser.js";
import { replayTransitions } from "../src/transitions.js";

let relay: InspectorRelay | undefined;
let sim: Simulator | undefined;
let engine: Engine | undefined;
afterEach(async () => {
  await engine?.close();
  await sim?.close();
  await relay?.close();
  engine = undefined;
  sim = undefined;
  relay = undefined;
});

function collect(url: string): { messages: string[]; opened: Promise<void>; close: () => void } {
  const socket = new WebSocket(url);
  const messages: string[] = [];
  socket.on("message", (data: Buffer) => messages.push(data.toString("utf8")));
  return { messages, opened: new Promise((resolve) => socket.once("open", () => resolve())), close: () => socket.close() };
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the inspector relay", () => {
  test("listens on 127.0.0.1 only and serves the bridge page", async () => {
    relay = await startInspectorRelay();
    expect(relay.url).toBe(`http://127.0.0.1:${relay.port}/`);
    const page = await fetch(relay.url).then((response) => response.text());
    expect(page).toContain('new WebSocket("ws://" + location.host)'); // back to the relay that served it
    expect(page).toContain("https://stately.ai/inspect");
  });

  test("a live session and a replayed one reach a WebSocket client as @xstate messages, with no prompt text", async () => {
    relay = await startInspectorRelay();
    const client = collect(relay.wsUrl);
    await client.opened;
    const inspector = createSessionInspector(relay.wsUrl);
    sim = await startSimulator({ seed: 1, timeScale: 0.01 });
    engine = createEngine({ runtimeUrl: sim.url, inspect: (event) => inspector.inspect(event) });
    const secret = "please rotate ghp_abcdefghijklmnopqrstuvwxyz0123 in the vault";
    const session = await engine.start({ repository: { owner: "octo", name: "demo" }, prompts: [secret] });
    await waitFor(() => session.snapshot().context.prompts.every((prompt) => prompt.status === "completed"));
    await session.close();
    const log = await engine.history(session.id);
    replayTransitions(session.id, log, (event) => inspector.inspect(event));
    await inspector.stop();
    await waitFor(() => client.messages.some((message) => message.includes('"closed"')));
    client.close();
    const parsed = client.messages.map((message) => JSON.parse(message) as { type: string; sessionId: string });
    const types = new Set(parsed.map((message) => message.type));
    expect(types).toContain("@xstate.actor");
    expect(types).toContain("@xstate.snapshot");
    // Two actors: the engine's live one and the replay's.
    expect(new Set(parsed.filter((message) => message.type === "@xstate.actor").map((message) => message.sessionId)).size).toBe(2);
    const all = client.messages.join("\n");
    expect(all).not.toContain("please rotate");
    expect(all).not.toContain("ghp_");
    expect(all).not.toContain("Simulated reply");
    expect(all).toContain("[redacted]");
  });

  test("never opens a browser when headless, piped or in CI", () => {
    expect(canOpenBrowser({}, true, "linux")).toBe(false);
    expect(canOpenBrowser({ DISPLAY: ":0" }, false, "linux")).toBe(false);
    expect(canOpenBrowser({ DISPLAY: ":0", CI: "1" }, true, "linux")).toBe(false);
    expect(canOpenBrowser({ DISPLAY: ":0", SSH_CONNECTION: "x" }, true, "linux")).toBe(false);
    expect(canOpenBrowser({ DISPLAY: ":0" }, true, "linux")).toBe(true);
  });
});
