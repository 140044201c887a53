/**
 * One engine instance of the `clusterScaling` benchmark, in its own process (bundled once per run
 * with esbuild, spawned with node). It opens the shared PostgreSQL store in
 * cluster mode, says `ready`, and on `go` runs its share of the sessions: start with every prompt
 * queued, wait for the last turn, close. It reports its own wall and CPU time, then waits for
 * `exit` (the parent samples PostgreSQL's CPU while the connections are still open).
 */
import { createEngine, type SessionHandle } from "@cloudsession/engine";
import { openPostgresStore } from "@cloudsession/store";

export interface ClusterScalingChildConfig {
  readonly instanceId: string;
  readonly connectionString: string;
  readonly schema: string;
  readonly runtimeUrl: string;
  readonly sessions: number;
  readonly promptsPerSession: number;
  readonly leaseTtlMs: number;
  readonly pollMs: number;
}

export type ClusterScalingParentMessage = { readonly type: "go" } | { readonly type: "exit" };

export type ClusterScalingChildMessage =
  | { readonly type: "ready" }
  | {
      readonly type: "finished";
      readonly wallMs: number;
      readonly cpuUserMs: number;
      readonly cpuSystemMs: number;
      /** Sessions that ended `closed` with every prompt completed. */
      readonly completedSessions: number;
      readonly errors: number;
    }
  | { readonly type: "failed"; readonly message: string };

const config = JSON.parse(process.argv[2] ?? "{}") as ClusterScalingChildConfig;
const tell = (message: ClusterScalingChildMessage): void => void process.send?.(message);
let errors = 0;

const store = await openPostgresStore({ connectionString: config.connectionString, schema: config.schema });
const engine = createEngine({
  runtimeUrl: config.runtimeUrl,
  store,
  maxConcurrent: Math.max(64, config.sessions),
  heartbeatMs: 0,
  onError: (error, key) => {
    errors++;
    if (errors <= 5) console.error(`clusterScaling ${config.instanceId}: ${key}:`, error);
  },
  cluster: { instanceId: config.instanceId, leaseTtlMs: config.leaseTtlMs, pollMs: config.pollMs },
});

async function run(): Promise<void> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const handles = await Promise.all(
    Array.from({ length: config.sessions }, (_, i) =>
      engine.start({
        repository: { owner: "bench", name: `cluster-${config.instanceId}-${i % 50}` },
        prompts: Array.from({ length: config.promptsPerSession }, (_, turn) => `${config.instanceId} s${i} p${turn}`),
      }),
    ),
  );
  const outcomes = await Promise.all(handles.map(async (handle) => closeWhenDone(handle)));
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  tell({
    type: "finished",
    wallMs,
    cpuUserMs: used.user / 1000,
    cpuSystemMs: used.system / 1000,
    completedSessions: outcomes.filter((done) => done).length,
    errors,
  });
}

/** Waits for the last turn (state changes only; no polling), closes, says whether all went through. */
async function closeWhenDone(handle: SessionHandle): Promise<boolean> {
  const settled = () => {
    const prompts = handle.snapshot().context.prompts;
    return prompts.length === config.promptsPerSession && prompts.every((prompt) => prompt.status === "completed");
  };
  await new Promise<void>((resolve) => {
    const subscription = handle.state$.subscribe({
      next: (state) => {
        if (state === "ready" && settled()) {
          resolve();
          queueMicrotask(() => subscription.unsubscribe());
        }
      },
      complete: () => resolve(),
    });
  });
  const outcome = await handle.close("benchmark done");
  return outcome.state === "closed" && outcome.prompts.every((prompt) => prompt.status === "completed");
}

process.on("message", (message: ClusterScalingParentMessage) => {
  if (message.type === "go") {
    run().catch((error: unknown) => tell({ type: "failed", message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
    return;
  }
  void engine
    .close()
    .then(() => store.close())
    .finally(() => process.disconnect());
});

tell({ type: "ready" });
