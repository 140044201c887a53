import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const serviceDir = fileURLToPath(new URL("../..", import.meta.url));

export interface ServiceProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with how it exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `src/main.ts` from source (tsx, the workspace's source condition) and waits for its URL. */
export async function spawnService(env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=@cloudsession/source", "src/main.ts"], {
    cwd: serviceDir,
    env: { ...process.env, PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not start in 120 s:\n${output}`)), 120_000);
    const look = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", look);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the service exited before listening:\n${output}`));
    });
  });
  return { url, child, output: () => output, exited };
}
