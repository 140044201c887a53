// A child process that runs the engine until a labelled probe point kills it (SIGKILL), or until
// its sessions are done. The parent runs the simulator, which outlives every child.
import { openStore } from "@cloudsession/store";
import { readFileSync } from "node:fs";
import { Socket } from "node:net";
import { createEngine, type ProbePoint, type SessionHandle } from "../../src/index.js";

export interface CrashChildConfig {
  readonly mode: "run" | "recover";
  readonly store: string;
  readonly schema: string;
  readonly runtimeUrl: string;
  /** `run`: sessions to start, each with prompts given at start and prompts sent a little later. */
  readonly sessions?: readonly { readonly repository: string; readonly atStart: readonly string[]; readonly later: readonly string[] }[];
  readonly killAt?: { readonly point: ProbePoint; readonly occurrence: number };
}

const config = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as CrashChildConfig;
let hits = 0;

const store = await openStore(config.store, { schema: config.schema });
const engine = createEngine({
  runtimeUrl: config.runtimeUrl,
  store,
  heartbeatMs: 100,
  timeouts: { turnStallTimeoutMs: 5_000 },
  onError: (error, key) => console.error(`background error in ${key}:`, error),
  probe: (point) => {
    if (config.killAt?.point === point && ++hits === config.killAt.occurrence) process.kill(process.pid, "SIGKILL");
  },
});

const settledPrompts = (session: SessionHandle) =>
  session.snapshot().context.prompts.every((prompt) => prompt.status === "completed" || prompt.status === "interrupted" || prompt.status === "undelivered");

async function finish(session: SessionHandle, expected: number): Promise<void> {
  const started = Date.now();
  while (session.snapshot().context.prompts.length < expected || !settledPrompts(session)) {
    if (session.snapshot().status !== "active") break;
    if (Date.now() - started > 20_000) throw new Error(`session ${session.id} did not finish: ${JSON.stringify(session.snapshot().context.prompts)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await session.close("done");
}

if (config.mode === "run") {
  const work = (config.sessions ?? []).map(async (spec) => {
    const [owner = "", name = ""] = spec.repository.split("/");
    const session = await engine.start({ repository: { owner, name }, prompts: spec.atStart });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await Promise.all(spec.later.map((text) => session.send(text)));
    await finish(session, spec.atStart.length + spec.later.length);
  });
  await Promise.all(work);
} else {
  const recovered = await engine.recover();
  await Promise.all(recovered.map((session) => finish(session, 0)));
}
await engine.close();
await store.close();
process.stdout.write("done\n");
// Everything is closed: the process must exit by itself. If it does not, say what keeps it alive
// (the parent's watchdog kills it after 60 s and reports this output). Timers show only in the
// resource list; sockets other than stdio are named by their far end.
setTimeout(() => {
  const sockets = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter((handle): handle is Socket => handle instanceof Socket && handle.remotePort !== undefined);
  const named = sockets.map((socket) => `socket to ${socket.remoteAddress ?? "?"}:${String(socket.remotePort)}`);
  process.stderr.write(`[still running 20 s after done: ${process.getActiveResourcesInfo().join(", ")}]\n${named.join("\n")}\n`);
}, 20_000).unref();
