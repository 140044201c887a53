import { request } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FAKE_TOKEN, startCapiStub, type CapiStub } from "../src/capiStub.js";

// The stub and its refusing proxy have tests of their own: the runtime tests trust them.
let stub: CapiStub;
beforeEach(async () => {
  stub = await startCapiStub();
});
afterEach(async () => {
  await stub.close();
});

const auth = { authorization: `Bearer ${FAKE_TOKEN}` };

/** A raw CONNECT through the stub, as the runtime would send for https://api.github.com. */
function connectThrough(target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: stub.port, method: "CONNECT", path: target });
    req.on("connect", (response, socket) => {
      socket.destroy();
      resolve(response.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("capiStub", () => {
  it("answers the user lookup only for the fake token", async () => {
    const ok = await fetch(`${stub.url}/copilot_internal/user`, { headers: auth });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ copilot_plan: "individual_pro", endpoints: { api: stub.url } });
    const bad = await fetch(`${stub.url}/copilot_internal/user`, { headers: { authorization: "Bearer nope" } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ message: "Bad credentials" });
  });

  it("lists one chat model and answers 404 JSON for anything else", async () => {
    const models = (await (await fetch(`${stub.url}/models`)).json()) as { data: { id: string; capabilities: { type: string } }[] };
    expect(models.data.map((m) => [m.id, m.capabilities.type])).toEqual([["claude-sonnet-4.5", "chat"]]);
    const missing = await fetch(`${stub.url}/mcp/readonly`, { method: "POST", body: "{}" });
    expect(missing.status).toBe(404);
    expect(stub.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(["GET /models 200", "POST /mcp/readonly 404"]);
  });

  it("streams a scripted chat completion as OpenAI SSE chunks, then a stop chunk with usage, then [DONE]", async () => {
    stub.setChatScript({ text: "one two three" });
    const response = await fetch(`${stub.url}/chat/completions`, { method: "POST", body: JSON.stringify({ model: "claude-sonnet-4", stream: true }) });
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const frames = (await response.text()).split("\n\n").filter((f) => f !== "");
    expect(frames.at(-1)).toBe("data: [DONE]");
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.slice("data: ".length)) as { model: string; choices: { delta: { content?: string }; finish_reason: string | null }[]; usage?: unknown });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("one two three");
    expect(chunks.at(-1)).toMatchObject({ choices: [{ finish_reason: "stop" }], usage: { completion_tokens: 3 } });
    expect(new Set(chunks.map((c) => c.model))).toEqual(new Set(["claude-sonnet-4"]));
    await stub.streamed(3, 1_000);
  });

  it("notes a stream the client closed early (an abort)", async () => {
    stub.setChatScript({ text: "a b c d e f g h", chunkDelayMs: 50 });
    const controller = new AbortController();
    const response = await fetch(`${stub.url}/chat/completions`, { method: "POST", body: "{}", signal: controller.signal });
    await stub.streamed(2, 2_000);
    controller.abort();
    await response.body?.cancel().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stub.requests[0]?.closedEarly).toBe(true);
  });

  it("is a proxy that refuses CONNECT with 403 and records the attempt", async () => {
    expect(await connectThrough("api.github.com:443")).toBe(403);
    expect(stub.outbound.attempts.map((a) => [a.method, a.target])).toEqual([["CONNECT", "api.github.com:443"]]);
    expect(stub.outbound.forwarded).toBe(0);
  });

  it("refuses plain-HTTP proxy requests (absolute-form URLs) too", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: stub.port, method: "GET", path: "http://example.com/" }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(403);
    expect(stub.outbound.attempts).toMatchObject([{ method: "GET", target: "http://example.com/" }]);
    expect(stub.requests).toEqual([]);
  });
});
