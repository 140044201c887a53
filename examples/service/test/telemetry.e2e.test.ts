import { startSimulator } from "@cloudsession/simulator";
import { createInMemoryStore } from "@cloudsession/store";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { expect, test } from "vitest";
import { startService, startTelemetry } from "../src/index.js";
import { eventually, request } from "./support/http.js";

test("the service wires the OpenTelemetry SDK: a session span and its turns, without prompt text", async () => {
  const exporter = new InMemorySpanExporter();
  const telemetry = startTelemetry({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const sim = await startSimulator({ seed: 9, timeScale: 0.01 });
  const service = await startService({ port: 0, store: createInMemoryStore(), engine: { runtimeUrl: sim.url, heartbeatMs: 0 } });
  const prompt = "confidential: summarise the incident report";
  try {
    const id = (await request("POST", `${service.url}/sessions`, { repository: { owner: "octo", name: "demo" }, prompts: [prompt] })).body.id as string;
    await eventually("the prompt completed", async () => {
      const body = (await request("GET", `${service.url}/sessions/${id}`)).body as { prompts: { status: string }[] };
      return body.prompts[0]?.status === "completed" ? true : undefined;
    });
    expect((await request("DELETE", `${service.url}/sessions/${id}`)).status).toBe(200);

    const spans = exporter.getFinishedSpans();
    const session = spans.find((span) => span.name === "cloudsession.session");
    expect(session?.attributes).toMatchObject({ "cloudsession.session.id": id, "cloudsession.repository.owner": "octo", "cloudsession.repository.name": "demo", "cloudsession.final_state": "closed" });
    expect(session?.events.map((event) => event.name)).toEqual(expect.arrayContaining(["reserving", "awaiting-agent", "ready", "streaming", "closed"]));
    const turn = spans.find((span) => span.name === "cloudsession.turn");
    expect(turn?.parentSpanContext?.spanId).toBe(session?.spanContext().spanId);
    expect(turn?.attributes["cloudsession.turn.outcome"]).toBe("completed");
    const values = spans.flatMap((span) => [...Object.values(span.attributes), ...span.events.flatMap((event) => Object.values(event.attributes ?? {}))]).map(String);
    expect(values.filter((value) => value.includes("confidential") || value.includes("incident"))).toEqual([]);
  } finally {
    await service.close();
    await sim.close();
    await telemetry.shutdown();
  }
});
