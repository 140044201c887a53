import { startSimulator, type Simulator } from "@cloudsession/simulator";
import { openPostgresStore } from "@cloudsession/store";
import { build } from "esbuild";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import pg from "pg";
import type { ClusterScalingChildConfig, ClusterScalingChildMessage, ClusterScalingParentMessage } from "./clusterScalingChild.js";
import { postgresUrl } from "./durableAppends.js";
import { absoluteFigure, median, ratioFigure, type Benchmark, type BenchmarkResult, type Figure } from "./report.js";

/**
 * Benchmark 7: the same workload on 1, 2 and 3 engine instances in cluster mode, each a child
 * process, on one PostgreSQL schema, against one zero-latency simulator (in this process). Each
 * instance starts its share of the sessions with every prompt queued, waits for the last turn and
 * closes. Measured from `go` to the last instance finished: sessions/s and events/s (the events in
 * the store afterwards), with 2 and 3 instances next to 1 in the same run (rotating order, median
 * of the rounds). CPU time of each process over the same window says where the limit is: the
 * simulator (one process, one core at most), the engines, PostgreSQL (all its processes, read
 * from /proc when it runs on this machine), or the machine's cores altogether.
 */
export const clusterScaling: Benchmark = {
  name: "clusterScaling",
  title: "7. cluster scaling: sessions/s and events/s with 1, 2 and 3 engine instances (PostgreSQL)",
  async run({ quick, log }): Promise<BenchmarkResult> {
    const sessions = quick ? 12 : 600;
    const promptsPerSession = quick ? 1 : 3;
    const sizes = [1, 2, 3] as const;
    // Rotating order, so no size always runs first (cold PostgreSQL caches) or last.
    const order: (readonly number[])[] = quick ? [[1, 2, 3]] : [[1, 2, 3], [2, 3, 1], [3, 1, 2]];
    const cores = cpus().length;
    await bundleChild();
    const sim = await startSimulator({
      seed: 7,
      timeScale: 0,
      defaults: { noise: false, reply: (prompt: string) => `ack ${prompt}` },
    });
    const rounds: Round[] = [];
    try {
      for (const [index, sequence] of order.entries()) {
        for (const instances of sequence) {
          const round = await runRound({ sim, instances, sessions, promptsPerSession, tag: `${index}_${instances}` });
          rounds.push(round);
          log(
            `${instances} instance(s): ${round.sessions} sessions, ${round.events} events in ${round.wallMs.toFixed(0)} ms ` +
              `→ ${round.sessionsPerSecond.toFixed(0)} sessions/s, ${round.eventsPerSecond.toFixed(0)} events/s; limit: ${limitOf(round, cores)}`,
          );
        }
      }
    } finally {
      await sim.close();
    }

    const of = (instances: number) => rounds.filter((round) => round.instances === instances);
    const medianOf = (instances: number, pick: (round: Round) => number) => median(of(instances).map(pick));
    const sessionsPerSecond = (n: number) => medianOf(n, (round) => round.sessionsPerSecond);
    const eventsPerSecond = (n: number) => medianOf(n, (round) => round.eventsPerSecond);
    const figures: Figure[] = [];
    for (const [metric, value, unit] of [
      ["sessions/s", sessionsPerSecond, "sessions/s"],
      ["events/s", eventsPerSecond, "events/s"],
    ] as const) {
      figures.push(absoluteFigure({ metric: `${metric}, 1 instance`, unit, subject: value(1), baseline: null, baselineLabel: "", target: null }));
      for (const n of [2, 3]) figures.push(ratioFigure({ metric: `${metric}, ${n} instances`, unit, subject: value(n), baseline: value(1), baselineLabel: "1 instance", target: null }));
    }
    /** The round of this size with the median wall time: the one whose CPU figures are shown. */
    const typical = (instances: number): Round | undefined => [...of(instances)].sort((x, y) => x.wallMs - y.wallMs)[Math.floor(of(instances).length / 2)];
    // Where the time goes with the most instances: cores busy per process group over the run.
    const largest = typical(3);
    if (largest !== undefined) {
      const busy = (ms: number) => ms / largest.wallMs;
      figures.push(absoluteFigure({ metric: "3 instances: simulator process (this one) busy", unit: "cores", subject: busy(largest.parentCpuMs), baseline: 1, baselineLabel: "its limit", target: null }));
      figures.push(absoluteFigure({ metric: "3 instances: engines busy (sum)", unit: "cores", subject: busy(sum(largest.childCpuMs)), baseline: null, baselineLabel: "", target: null }));
      if (largest.postgresCpuMs !== null) {
        figures.push(absoluteFigure({ metric: "3 instances: PostgreSQL busy (our connections + its background processes)", unit: "cores", subject: busy(largest.postgresCpuMs), baseline: null, baselineLabel: "", target: null }));
      }
      if (largest.machineBusyMs !== null) {
        figures.push(absoluteFigure({ metric: "3 instances: machine busy (other processes included)", unit: "cores", subject: busy(largest.machineBusyMs), baseline: cores, baselineLabel: "cores", target: null }));
      }
    }
    const limits = sizes.map((n) => {
      const round = typical(n);
      return round === undefined ? `${n}: -` : `${n} instance(s): ${limitOf(round, cores)}`;
    });
    for (const line of limits) log(`limit with ${line}`);
    return {
      name: "clusterScaling",
      quick,
      figures,
      details: {
        sessions,
        promptsPerSession,
        store: "PostgreSQL",
        cores,
        simulator: "one process, timeScale 0 (no simulated latency)",
        limits,
        rounds: rounds.map((round) => ({ ...round, limit: limitOf(round, cores) })),
      },
    };
  },
};

interface Round {
  readonly instances: number;
  readonly sessions: number;
  readonly events: number;
  readonly wallMs: number;
  readonly sessionsPerSecond: number;
  readonly eventsPerSecond: number;
  /** This process: the simulator (and the benchmark's bookkeeping, which is idle during the run). */
  readonly parentCpuMs: number;
  readonly childCpuMs: readonly number[];
  /** The instances' PostgreSQL backends plus its background processes (WAL writer, checkpointer…); null when not visible in /proc. */
  readonly postgresCpuMs: number | null;
  /** All processes on the machine (/proc/stat), others' included; null off Linux. */
  readonly machineBusyMs: number | null;
  readonly childWallMs: readonly number[];
}

/** Marks the instances' PostgreSQL connections, so their backends' CPU can be told from other clients'. */
const APPLICATION_NAME = "cloudsession_bench_cluster";

function tagged(connectionString: string): string {
  const url = new URL(connectionString);
  url.searchParams.set("application_name", APPLICATION_NAME);
  return url.toString();
}

const childSource = fileURLToPath(new URL("./clusterScalingChild.ts", import.meta.url));
// Inside this package, so the bundle's externals (pg) resolve from its node_modules.
const childScript = fileURLToPath(new URL("../node_modules/.cluster-build/clusterScalingChild.mjs", import.meta.url));

/** One bundle per run: each instance then starts in a fraction of a second, without a TypeScript loader. */
async function bundleChild(): Promise<void> {
  await build({
    entryPoints: [childSource],
    outfile: childScript,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["@cloudsession/source"],
    external: ["@electric-sql/pglite", "pg", "pg-native"],
    // Bundled CommonJS dependencies still call require().
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: "error",
  });
}

async function runRound(input: { sim: Simulator; instances: number; sessions: number; promptsPerSession: number; tag: string }): Promise<Round> {
  const schema = `bench_cluster_${Date.now().toString(36)}_${input.tag}`;
  // The parent migrates the schema once, before the instances open it concurrently.
  const store = await openPostgresStore({ connectionString: postgresUrl, schema, poolSize: 1 });
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  const children: Child[] = [];
  try {
    for (let i = 0; i < input.instances; i++) {
      const share = Math.floor(input.sessions / input.instances) + (i < input.sessions % input.instances ? 1 : 0);
      children.push(
        spawnChild({
          instanceId: `i${i}`,
          connectionString: tagged(postgresUrl),
          schema,
          runtimeUrl: input.sim.url,
          sessions: share,
          promptsPerSession: input.promptsPerSession,
          leaseTtlMs: 10_000,
          pollMs: 500,
        }),
      );
    }
    await Promise.all(children.map((child) => child.next("ready")));
    const ourBackends = async (): Promise<number[]> =>
      (await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1 OR backend_type <> 'client backend'", [APPLICATION_NAME])).rows.map((row) => row.pid);
    const postgresBefore = processCpuMs(await ourBackends());
    const machineBefore = machineBusyMs();
    const parentBefore = process.cpuUsage();
    const started = performance.now();
    for (const child of children) child.send({ type: "go" });
    const finished = await Promise.all(children.map((child) => child.next("finished")));
    const wallMs = performance.now() - started;
    const parentUsed = process.cpuUsage(parentBefore);
    const machineAfter = machineBusyMs();
    // Before `exit`: the instances' PostgreSQL connections (backends) are still there to be read.
    const postgresAfter = processCpuMs(await ourBackends());
    for (const child of children) child.send({ type: "exit" });
    await Promise.all(children.map((child) => child.exited));

    const completed = sum(finished.map((message) => message.completedSessions));
    if (completed !== input.sessions) throw new Error(`clusterScaling: ${completed} of ${input.sessions} sessions completed (${input.instances} instances)`);
    const summaries = await store.listStreams({ status: "all" });
    const events = sum(summaries.map((summary) => summary.version));
    if (summaries.some((summary) => !summary.final)) throw new Error("clusterScaling: a session log is not final");
    return {
      instances: input.instances,
      sessions: input.sessions,
      events,
      wallMs,
      sessionsPerSecond: input.sessions / (wallMs / 1000),
      eventsPerSecond: events / (wallMs / 1000),
      parentCpuMs: (parentUsed.user + parentUsed.system) / 1000,
      childCpuMs: finished.map((message) => message.cpuUserMs + message.cpuSystemMs),
      childWallMs: finished.map((message) => message.wallMs),
      postgresCpuMs: postgresBefore === null || postgresAfter === null ? null : cpuDelta(postgresBefore, postgresAfter),
      machineBusyMs: machineBefore === null || machineAfter === null ? null : machineAfter - machineBefore,
    };
  } finally {
    for (const child of children) child.kill();
    await store.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.end());
  }
}

interface Child {
  readonly exited: Promise<void>;
  next<T extends ClusterScalingChildMessage["type"]>(type: T): Promise<Extract<ClusterScalingChildMessage, { type: T }>>;
  send(message: ClusterScalingParentMessage): void;
  kill(): void;
}

function spawnChild(config: ClusterScalingChildConfig): Child {
  const child: ChildProcess = spawn(process.execPath, [childScript, JSON.stringify(config)], { stdio: ["ignore", "inherit", "pipe", "ipc"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-10_000)));
  const messages: ClusterScalingChildMessage[] = [];
  const waiters: (() => void)[] = [];
  let exitCode: number | null | undefined;
  child.on("message", (message: ClusterScalingChildMessage) => {
    messages.push(message);
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<void>((resolve) =>
    child.on("exit", (code) => {
      exitCode = code;
      for (const wake of waiters.splice(0)) wake();
      resolve();
    }),
  );
  return {
    exited,
    async next(type) {
      for (;;) {
        const failed = messages.find((message) => message.type === "failed");
        if (failed !== undefined) throw new Error(`clusterScaling ${config.instanceId} failed: ${failed.message}`);
        const found = messages.find((message) => message.type === type);
        if (found !== undefined) return found as Extract<ClusterScalingChildMessage, { type: typeof type }>;
        if (exitCode !== undefined) throw new Error(`clusterScaling ${config.instanceId} exited (${exitCode}) before "${type}": ${stderr}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    send: (message) => void child.send(message),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

/**
 * Says which resource bounds a round: a single-threaded process at its one core (the simulator, an
 * engine), or the machine's cores all busy (then who used them most), else none: waits bound it.
 * The machine is shared, so what other processes used is named too.
 */
function limitOf(round: Round, cores: number): string {
  const busy = (ms: number) => ms / round.wallMs;
  const simulator = busy(round.parentCpuMs);
  const engines = round.childCpuMs.map(busy);
  const postgres = round.postgresCpuMs === null ? null : busy(round.postgresCpuMs);
  const machine = round.machineBusyMs === null ? null : busy(round.machineBusyMs);
  const ours = simulator + sum(engines) + (postgres ?? 0);
  const others = machine === null ? null : Math.max(0, machine - ours);
  const limits: string[] = [];
  if (simulator >= 0.85) limits.push(`the single simulator process (${simulator.toFixed(2)} of its one core)`);
  if (Math.max(...engines) >= 0.85) limits.push(`one engine's event loop (${Math.max(...engines).toFixed(2)} of its one core)`);
  if (machine !== null && machine / cores >= 0.85) {
    const shares: [string, number][] = [
      ["simulator", simulator],
      ["engines", sum(engines)],
      ["PostgreSQL", postgres ?? 0],
      ["other processes", others ?? 0],
    ];
    const [name, share] = shares.reduce((best, candidate) => (candidate[1] > best[1] ? candidate : best));
    limits.push(`the machine's ${cores} cores, all busy (largest share: ${name}, ${share.toFixed(2)} cores)`);
  }
  const verdict = limits.length > 0 ? limits.join("; ") : "no CPU ceiling reached: waits (store round trips, commits, IPC) bound it";
  const parts =
    `simulator ${simulator.toFixed(2)}, engines ${engines.map((value) => value.toFixed(2)).join("+")}, PostgreSQL ${postgres === null ? "?" : postgres.toFixed(2)}, ` +
    `other processes ${others === null ? "?" : others.toFixed(2)}, machine ${machine === null ? "?" : machine.toFixed(2)} of ${cores}`;
  return `${verdict} [busy cores: ${parts}]`;
}

// ---- CPU time from /proc (Linux); null elsewhere -----------------------------------------------

const clockTicksPerSecond = 100; // USER_HZ: 100 on every Linux the tests run on (getconf CLK_TCK)

/** utime + stime (ms) of these processes, by pid; null when /proc cannot tell (not Linux, or PostgreSQL elsewhere). */
function processCpuMs(pids: readonly number[]): Map<number, number> | null {
  const cpu = new Map<number, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // Fields 14 and 15 (utime, stime) are the 12th and 13th after the parenthesised name.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      cpu.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond);
    } catch {
      // gone meanwhile, or not on this machine
    }
  }
  return cpu.size === 0 ? null : cpu;
}

/** CPU used between two samples; a process born in between counts from zero. */
function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

/** Busy time of all cores since boot (ms): everything in /proc/stat's `cpu` line but idle and iowait. */
function machineBusyMs(): number | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const [, user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).map(Number);
    return ((user + nice + system + irq + softirq + steal) * 1000) / clockTicksPerSecond;
  } catch {
    return null;
  }
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
