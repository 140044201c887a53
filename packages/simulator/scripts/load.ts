/**
 * Load check: N concurrent cloud sessions from ONE real SDK client against one simulator.
 * Prints the time until every session saw its `copilot-agent` start, and heap used.
 *
 *   pnpm exec tsx --conditions=@cloudsession/source scripts/load.ts [--sessions 10000] [--time-scale 1]
 */
import { parseArgs } from "node:util";
import { CopilotClient, RuntimeConnection } from "@github/copilot-sdk";
import { startSimulator } from "../src/index.js";

const { values } = parseArgs({
  options: { sessions: { type: "string", default: "10000" }, "time-scale": { type: "string", default: "1" } },
});
const count = Number(values.sessions);
const timeScale = Number(values["time-scale"]);
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

const heapBefore = process.memoryUsage().heapUsed;
const sim = await startSimulator({ seed: 1, timeScale, defaults: { noise: false } });
const client = new CopilotClient({ connection: RuntimeConnection.forUri(sim.url) });
await client.start();

const t0 = performance.now();
let created = 0;
let lastCreatedAt = 0;
const started = Array.from({ length: count }, async (_, i) => {
  let onStart: () => void = () => undefined;
  const agentStarted = new Promise<void>((resolve) => (onStart = resolve));
  await client.createSession({
    cloud: { repository: { owner: "load", name: `repo-${i % 100}` } },
    onEvent: (event) => {
      if (event.type === "session.start" && event.data.producer === "copilot-agent") onStart();
    },
  });
  created++;
  lastCreatedAt = performance.now();
  await agentStarted;
});
await Promise.all(started);
const allStarted = performance.now() - t0;
const heapAfter = process.memoryUsage().heapUsed;

console.log(`sessions:                 ${count} (timeScale ${timeScale}: reservation 200-400 ms, agent connect 1000-2000 ms simulated)`);
console.log(`all created after:        ${(lastCreatedAt - t0).toFixed(0)} ms (${created} created)`);
console.log(`all agent-started after:  ${allStarted.toFixed(0)} ms`);
console.log(`heap used:                ${mb(heapAfter)} (was ${mb(heapBefore)} before; client and simulator share this process)`);
console.log(`rss:                      ${mb(process.memoryUsage().rss)}`);
console.log(`simulator: createAttempts=${sim.stats.createAttempts} sessionsCreated=${sim.stats.sessionsCreated} connections=${sim.stats.connectionsOpened}`);

await client.forceStop();
await sim.close();
