import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { metrics, trace } from "@opentelemetry/api";
import { DataPointType, MeterProvider, MetricReader, type MetricData } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import { createEngine, type SessionHandle } from "../src/index.js";

/** Collects on demand (tests read metrics when they want, not on a period). */
class OnDemandReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

const spans = new InMemorySpanExporter();
const reader = new OnDemandReader();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const meterProvider = new MeterProvider({ readers: [reader] });
let sim: Simulator;

beforeAll(async () => {
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  sim = await startSimulator({
    seed: 5,
    timeScale: 0.01,
    repositories: {
      "octo/blocked": { createFault: { kind: "policy_blocked" } },
      "octo/slow": { agentConnectLatencyMs: [60_000, 60_000] },
    },
  });
});

afterAll(async () => {
  await sim.close();
  await tracerProvider.shutdown();
  await meterProvider.shutdown();
  trace.disable();
  metrics.disable();
});

beforeEach(() => spans.reset());

async function collect(): Promise<MetricData[]> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics.filter((scope) => scope.scope.name === "@cloudsession/engine").flatMap((scope) => scope.metrics);
}

function metric(all: MetricData[], name: string): MetricData | undefined {
  return all.find((entry) => entry.descriptor.name === name);
}

function answered(session: SessionHandle, turns: number): Promise<void> {
  return new Promise((resolve) => session.text$.subscribe(({ turn, done }) => done && turn === turns && resolve()));
}

/** Every string that a span carries in attributes, event names or event attributes. */
function exportedStrings(all: readonly ReadableSpan[]): string[] {
  return all.flatMap((span) => [
    span.name,
    ...Object.values(span.attributes).map(String),
    ...span.events.flatMap((event) => [event.name, ...Object.values(event.attributes ?? {}).map(String)]),
    span.status.message ?? "",
  ]);
}

test("a span per session with the lifecycle as events, a child span per turn, and no prompt or reply text anywhere", async () => {
  const prompts = ["secret prompt alpha: the launch codes", "secret prompt beta: rotate the token ghp_abc123"];
  const engine = createEngine({ runtimeUrl: sim.url, heartbeatMs: 0 });
  const session = await engine.start({ repository: { owner: "octo", name: "demo", branch: "main" }, prompts });
  await answered(session, 2);
  const outcome = await session.close();
  await engine.close();
  expect(outcome.state).toBe("closed");

  const finished = spans.getFinishedSpans();
  const [sessionSpan, ...others] = finished.filter((span) => span.name === "cloudsession.session");
  expect(others).toHaveLength(0);
  expect(sessionSpan?.instrumentationScope.name).toBe("@cloudsession/engine");
  expect(sessionSpan?.attributes).toMatchObject({
    "cloudsession.session.id": session.id,
    "cloudsession.sdk_session.id": session.sessionId,
    "cloudsession.repository.owner": "octo",
    "cloudsession.repository.name": "demo",
    "cloudsession.repository.branch": "main",
    "cloudsession.session.resumed": false,
    "cloudsession.final_state": "closed",
    "cloudsession.turns": 2,
  });
  const states = sessionSpan?.events.filter((event) => event.attributes?.["cloudsession.state"] !== undefined).map((event) => event.name);
  expect(states).toEqual(["reserving", "awaiting-agent", "ready", "streaming", "ready", "streaming", "ready", "closed"]);
  expect(sessionSpan?.events.map((event) => event.name)).toContain("reservation.succeeded");

  const turns = finished.filter((span) => span.name === "cloudsession.turn");
  expect(turns).toHaveLength(2);
  for (const [index, turn] of turns.entries()) {
    expect(turn.parentSpanContext?.spanId).toBe(sessionSpan?.spanContext().spanId);
    expect(turn.spanContext().traceId).toBe(sessionSpan?.spanContext().traceId);
    expect(turn.attributes).toMatchObject({ "cloudsession.turn.number": index + 1, "cloudsession.turn.outcome": "completed", "cloudsession.prompt.id": outcome.prompts[index]?.id });
    expect(turn.events.map((event) => event.name)).toEqual(["prompt.dispatched"]);
  }

  const texts = [...prompts, ...outcome.prompts.map((prompt) => prompt.reply ?? ""), "ghp_abc123"].filter(Boolean);
  const exported = exportedStrings(finished);
  for (const text of texts) expect(exported.filter((value) => value.includes(text))).toEqual([]);
  expect(exported.some((value) => /secret|launch|ghp_/i.test(value))).toBe(false);

  const all = await collect();
  const timeToReady = metric(all, "cloudsession.session.time_to_ready");
  expect(timeToReady?.descriptor.unit).toBe("ms");
  expect(timeToReady?.dataPointType).toBe(DataPointType.HISTOGRAM);
  expect(timeToReady?.dataPoints.reduce((count, point) => count + (point.value as { count: number }).count, 0)).toBeGreaterThanOrEqual(1);
  const latency = metric(all, "cloudsession.dispatch.latency");
  expect(latency?.dataPoints.reduce((count, point) => count + (point.value as { count: number }).count, 0)).toBeGreaterThanOrEqual(2);
  const closed = metric(all, "cloudsession.session.outcomes")?.dataPoints.find((point) => point.attributes["cloudsession.state"] === "closed");
  expect(closed?.value).toBeGreaterThanOrEqual(1);
});

test("outcomes are counted by final state; a blocked session's span says why (the reason code, not the message)", async () => {
  const engine = createEngine({ runtimeUrl: sim.url, heartbeatMs: 0 });
  const session = await engine.start({ repository: { owner: "octo", name: "blocked" }, prompts: ["never sent"] });
  const outcome = await session.outcome;
  await engine.close();
  expect(outcome.state).toBe("blocked");

  const sessionSpan = spans.getFinishedSpans().find((span) => span.name === "cloudsession.session");
  expect(sessionSpan?.attributes).toMatchObject({ "cloudsession.final_state": "blocked", "cloudsession.failure.reason": "policy_blocked", "cloudsession.turns": 0 });
  const states = sessionSpan?.events.filter((event) => event.attributes?.["cloudsession.state"] !== undefined).map((event) => event.name);
  expect(states).toEqual(["reserving", "blocked"]);
  expect(sessionSpan?.status.message).toBe("policy_blocked");
  const blocked = metric(await collect(), "cloudsession.session.outcomes")?.dataPoints.find((point) => point.attributes["cloudsession.state"] === "blocked");
  expect(blocked?.value).toBe(1);
});

test("the queue depth gauge counts prompts waiting for the agent", async () => {
  const engine = createEngine({ runtimeUrl: sim.url, heartbeatMs: 0 });
  const session = await engine.start({ repository: { owner: "octo", name: "slow" }, prompts: ["a", "b", "c"] });
  await session.settled();
  const depth = () => collect().then((all) => metric(all, "cloudsession.queue.depth")?.dataPoints[0]?.value);
  expect(await depth()).toBe(3);
  await session.close();
  expect(await depth()).toBe(0);
  await engine.close();
});
