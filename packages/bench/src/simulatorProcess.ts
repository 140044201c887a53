import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ScenarioInput } from "@cloudsession/simulator";

/** Counters of a simulator in another process, as far as the benchmarks read them. */
export interface SimulatorProcessStats {
  /** Prompts sent before the agent started (answered, then dropped, as a cloud runtime does). */
  readonly promptsDropped: number;
}

export type SimulatorParentMessage = { readonly type: "stats" | "agentStarts"; readonly id: number } | { readonly type: "close" };

export type SimulatorChildMessage =
  | { readonly type: "ready"; readonly url: string }
  | { readonly type: "stats"; readonly id: number; readonly stats: SimulatorProcessStats }
  | { readonly type: "agentStarts"; readonly id: number; readonly starts: readonly [sessionId: string, atMs: number][] };

/** A simulator running in a child process. */
export interface SimulatorProcess {
  readonly url: string;
  stats(): Promise<SimulatorProcessStats>;
  /** Agent starts (`session.start` from `copilot-agent`) written since the last call: session id → {@link monotonicMs} time of the write. */
  takeAgentStarts(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

const childScript = fileURLToPath(new URL("./simulatorProcessChild.ts", import.meta.url));

/**
 * Starts the simulator in its own process, the way the SDK runs the real runtime: the engine (or
 * the bare SDK baseline) then has the event loop to itself, as it would in production. The child
 * runs with this process's loader flags (tsx), so it needs no build.
 */
export async function startSimulatorProcess(scenario: ScenarioInput): Promise<SimulatorProcess> {
  const child = spawn(process.execPath, [...process.execArgv.filter((arg) => arg !== "--expose-gc"), childScript, JSON.stringify(scenario)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const pending = new Map<number, (message: SimulatorChildMessage) => void>();
  let nextId = 0;
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.on("message", (message: SimulatorChildMessage) => {
      if (message.type === "ready") resolve(message.url);
      else pending.get(message.id)?.(message);
    });
    void exited.then((code) => reject(new Error(`simulator process exited (${String(code)}) before it was ready`)));
  });
  const request = <T extends "stats" | "agentStarts">(type: T): Promise<Extract<SimulatorChildMessage, { type: T }>> => {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, (message) => {
        pending.delete(id);
        resolve(message as Extract<SimulatorChildMessage, { type: T }>);
      });
      void exited.then((code) => reject(new Error(`simulator process exited (${String(code)})`)));
      child.send({ type, id } satisfies SimulatorParentMessage);
    });
  };
  return {
    url,
    stats: async () => (await request("stats")).stats,
    takeAgentStarts: async () => new Map((await request("agentStarts")).starts),
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: "close" } satisfies SimulatorParentMessage);
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
