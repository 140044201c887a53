import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A throwaway home for one runtime: its session state, config and caches never touch the real ones. */
export interface IsolatedHome {
  readonly root: string;
  /** `COPILOT_HOME`: holds `session-state/<sessionId>/events.jsonl`. */
  readonly copilotHome: string;
  /** The runtime's working directory (the session's `context.cwd`). */
  readonly workDir: string;
  remove(): void;
}

export function createIsolatedHome(prefix = "cloudsession-fidelity-"): IsolatedHome {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const dirs = ["copilot", "home", "config", "state", "cache", "gh", "work"];
  for (const dir of dirs) mkdirSync(join(root, dir));
  return {
    root,
    copilotHome: join(root, "copilot"),
    workDir: join(root, "work"),
    remove: () => { rmSync(root, { recursive: true, force: true }); },
  };
}

/**
 * The environment for a real runtime that must stay on loopback: Copilot API and GitHub API at the
 * stub, every proxy variable at the stub (which refuses CONNECT), `NO_PROXY` for loopback only, and
 * all state in `home`. It starts from nothing but `PATH`: no ambient token or proxy leaks in.
 *
 * The fake token goes through the client's `gitHubToken` option (the SDK puts it in
 * `COPILOT_SDK_AUTH_TOKEN`), not through this environment.
 *
 * @example
 * const env = runtimeEnv({ stubUrl: stub.url, home: createIsolatedHome() });
 * new CopilotClient({ connection: RuntimeConnection.forStdio({ env }), gitHubToken: FAKE_TOKEN });
 */
export function runtimeEnv(options: { readonly stubUrl: string; readonly home: IsolatedHome }): Record<string, string> {
  const { stubUrl, home } = options;
  return {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    LANG: "C.UTF-8",
    HOME: join(home.root, "home"),
    COPILOT_HOME: home.copilotHome,
    XDG_CONFIG_HOME: join(home.root, "config"),
    XDG_STATE_HOME: join(home.root, "state"),
    XDG_CACHE_HOME: join(home.root, "cache"),
    GH_CONFIG_DIR: join(home.root, "gh"),
    COPILOT_API_URL: stubUrl,
    COPILOT_DEBUG_GITHUB_API_URL: stubUrl,
    HTTP_PROXY: stubUrl,
    HTTPS_PROXY: stubUrl,
    http_proxy: stubUrl,
    https_proxy: stubUrl,
    ALL_PROXY: stubUrl,
    all_proxy: stubUrl,
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
  };
}
