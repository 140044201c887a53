import { createEngine, disableNagle } from "@cloudsession/engine";
import { AGENT_PRODUCER } from "@cloudsession/machine";
import { startSimulator, type ScenarioInput } from "@cloudsession/simulator";
import { approveAll, CopilotClient, RuntimeConnection, type CopilotSession } from "@github/copilot-sdk";
import { filter, firstValueFrom, take, toArray } from "rxjs";
import { median, ratioFigure, type Benchmark, type BenchmarkResult } from "./report.js";

/**
 * Benchmark 2: one session's whole stream (connect, create, agent start, K streamed turns) through
 * the engine, against a bare SDK handler that sends the next prompt on each `session.idle`. The
 * simulator runs with zero latencies, so wall time is the CPU cost of the stream; each side gets a
 * fresh simulator with the same seed, so both see the same events.
 */
export const endToEnd: Benchmark = {
  name: "endToEnd",
  title: "2. end-to-end stream: engine vs a bare SDK handler",
  async run({ quick, log }): Promise<BenchmarkResult> {
    const turns = quick ? 1 : 3;
    const replyChars = quick ? 1_000 : 6_000;
    const repetitions = quick ? 2 : 9;
    const prompts = Array.from({ length: turns }, (_, turn) => `prompt ${turn}`);
    const scenario: ScenarioInput = {
      seed: 2,
      timeScale: 1,
      defaults: {
        reservationLatencyMs: [0, 0],
        agentConnectLatencyMs: [0, 0],
        thinkLatencyMs: [0, 0],
        chunkLatencyMs: [0, 0],
        noise: true,
        reply: (prompt: string) => `${prompt}: ${"lorem ipsum ".repeat(Math.ceil(replyChars / 12))}`.slice(0, replyChars),
      },
    };
    const subject: number[] = [];
    const bare: number[] = [];
    let eventsPerRun = 0;
    await runEngine(scenario, prompts); // warm-up of both paths (JIT, module init)
    await runBare(scenario, prompts);
    for (let rep = 0; rep < repetitions; rep++) {
      if (rep % 2 === 0) {
        subject.push(await runEngine(scenario, prompts));
        const run = await runBareCounted(scenario, prompts);
        bare.push(run.ms);
        eventsPerRun = run.events;
      } else {
        bare.push(await runBare(scenario, prompts));
        subject.push(await runEngine(scenario, prompts));
      }
    }
    log(`engine ${subject.map((ms) => ms.toFixed(1)).join(", ")} ms; bare ${bare.map((ms) => ms.toFixed(1)).join(", ")} ms; ${eventsPerRun} SDK events per run`);
    return {
      name: "endToEnd",
      quick,
      figures: [
        ratioFigure({ metric: `wall time of one stream (${turns} turns, ${eventsPerRun} SDK events)`, unit: "ms", subject: median(subject), baseline: median(bare), baselineLabel: "bare session.on", target: { atMost: 1.15 } }),
      ],
      details: { turns, replyChars, repetitions, sdkEventsPerRun: eventsPerRun, engineMs: subject, bareMs: bare },
    };
  },
};

async function runEngine(scenario: ScenarioInput, prompts: readonly string[]): Promise<number> {
  const sim = await startSimulator(scenario);
  try {
    const started = performance.now();
    const engine = createEngine({ runtimeUrl: sim.url, heartbeatMs: 0 });
    const session = await engine.start({ repository: { owner: "bench", name: "e2e" }, prompts });
    const idles = firstValueFrom(session.events$.pipe(filter((event) => event.type === "turn.idle"), take(prompts.length), toArray()));
    await idles;
    const ms = performance.now() - started;
    const completed = session.snapshot().context.prompts.filter((prompt) => prompt.status === "completed").length;
    await engine.close({ sessions: "close" });
    if (completed !== prompts.length) throw new Error(`endToEnd: engine completed ${completed} of ${prompts.length} prompts`);
    return ms;
  } finally {
    await sim.close();
  }
}

async function runBare(scenario: ScenarioInput, prompts: readonly string[]): Promise<number> {
  return (await runBareCounted(scenario, prompts)).ms;
}

async function runBareCounted(scenario: ScenarioInput, prompts: readonly string[]): Promise<{ ms: number; events: number }> {
  const sim = await startSimulator(scenario);
  try {
    const started = performance.now();
    const client = new CopilotClient({ connection: RuntimeConnection.forUri(sim.url) });
    await client.start();
    // The same socket as the engine's client (Nagle off): the comparison is of the engine's work.
    disableNagle(client);
    let events = 0;
    let turn = 0;
    let text = "";
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finish = resolve));
    // The handler can run before `createSession` resolves: it reads the session through this holder.
    const holder: { session?: CopilotSession } = {};
    let agentStarted = false;
    let firstSent = false;
    const sendFirst = () => {
      if (firstSent || !holder.session || !agentStarted) return;
      firstSent = true;
      void holder.session.send({ prompt: prompts[0] ?? "" });
    };
    const created = await client.createSession({
      streaming: true,
      cloud: { repository: { owner: "bench", name: "e2e" } },
      onPermissionRequest: approveAll,
      onEvent: (event) => {
        events++;
        switch (event.type) {
          case "session.start":
            if (event.data.producer === AGENT_PRODUCER) {
              agentStarted = true;
              sendFirst();
            }
            break;
          case "assistant.message_delta":
            text += event.data.deltaContent;
            break;
          case "session.idle":
            turn++;
            if (turn < prompts.length) void holder.session?.send({ prompt: prompts[turn] ?? "" });
            else finish();
            break;
          default:
            break;
        }
      },
    });
    holder.session = created;
    sendFirst();
    // A start that raced the create answer is only in history: look without blocking the live path.
    void created.getEvents().then((history) => {
      if (history.some((event) => event.type === "session.start" && event.data.producer === AGENT_PRODUCER)) agentStarted = true;
      sendFirst();
    });
    await done;
    const ms = performance.now() - started;
    if (text.length === 0) throw new Error("endToEnd: the bare handler saw no text");
    await created.disconnect().catch(() => undefined);
    await client.stop().catch(() => undefined);
    return { ms, events };
  } finally {
    await sim.close();
  }
}
