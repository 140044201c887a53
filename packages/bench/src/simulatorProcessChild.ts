/**
 * The child side of {@link startSimulatorProcess}: a simulator in its own process, as the real
 * runtime is (the SDK spawns it), so it does not share the engine's event loop. It answers the
 * parent's requests over IPC: its URL once started, counters, and the times agent starts left its
 * socket (kept here until asked for, so no IPC traffic runs during a measurement).
 */
import { startSimulator, type ScenarioInput } from "@cloudsession/simulator";
import { AGENT_PRODUCER } from "@cloudsession/machine";
import { monotonicMs, sessionIdOf, tapWire } from "./wireTap.js";
import type { SimulatorChildMessage, SimulatorParentMessage } from "./simulatorProcess.js";

const scenario = JSON.parse(process.argv[2] ?? "{}") as ScenarioInput;
const send = (message: SimulatorChildMessage): void => void process.send?.(message);

const agentStarts: [string, number][] = [];
const seen = new Set<string>();
tapWire(['"session.event"'], (frame) => {
  if (!frame.body.includes(AGENT_PRODUCER)) return;
  const sessionId = sessionIdOf(frame.body);
  if (sessionId === undefined || seen.has(sessionId)) return;
  seen.add(sessionId);
  agentStarts.push([sessionId, frame.at]);
}, monotonicMs);

const sim = await startSimulator(scenario);
process.on("message", (message: SimulatorParentMessage) => {
  switch (message.type) {
    case "stats": {
      const sessions = [...sim.stats.sessions.values()];
      send({
        type: "stats",
        id: message.id,
        stats: { promptsDropped: sessions.reduce((sum, session) => sum + session.promptsDropped.length, 0) },
      });
      break;
    }
    case "agentStarts":
      send({ type: "agentStarts", id: message.id, starts: agentStarts.splice(0) });
      break;
    case "close":
      void sim.close().finally(() => process.exit(0));
      break;
  }
});
// An orphaned child (the parent died) must not keep running.
process.on("disconnect", () => void sim.close().finally(() => process.exit(0)));
send({ type: "ready", url: sim.url });
