import { CliError } from "./cliError.js";

/** The variables through which the Copilot runtime finds the user's GitHub credentials. */
export const credentialVariables = ["GH_TOKEN", "GITHUB_TOKEN", "COPILOT_GITHUB_TOKEN"] as const;

/** Which Copilot runtime a command talks to. */
export type RuntimeChoice =
  | { readonly kind: "simulate"; readonly scenario: string; readonly fallback: boolean }
  | { readonly kind: "live" }
  | { readonly kind: "external"; readonly url: string };

export interface RuntimeFlags {
  /** `--simulate` (true) or `--simulate=<scenario>`. */
  readonly simulate?: string | boolean;
  readonly live?: boolean;
  /** `--runtime host:port`: a runtime already listening (e.g. `cloudsession sim`). */
  readonly runtime?: string;
}

/** Whether any credential variable is set (its value is never read further). */
export function hasGitHubCredentials(env: NodeJS.ProcessEnv): boolean {
  return credentialVariables.some((name) => (env[name] ?? "") !== "");
}

/**
 * `--runtime` wins, then `--live`, then `--simulate`; with none of them the real runtime is used
 * when credentials are present, the bundled simulator otherwise (`fallback: true`, said aloud).
 *
 * @example
 * chooseRuntime({}, {}) // { kind: "simulate", scenario: "normal", fallback: true }
 */
export function chooseRuntime(flags: RuntimeFlags, env: NodeJS.ProcessEnv): RuntimeChoice {
  const simulate = flags.simulate !== undefined && flags.simulate !== false;
  const given = [simulate, flags.live === true, flags.runtime !== undefined].filter(Boolean).length;
  if (given > 1) throw new CliError("USAGE", "--simulate, --live and --runtime exclude each other", { hint: "pick one of them" });
  if (flags.runtime !== undefined) return { kind: "external", url: flags.runtime };
  if (flags.live === true) return { kind: "live" };
  if (simulate) return { kind: "simulate", scenario: typeof flags.simulate === "string" && flags.simulate !== "" ? flags.simulate : "normal", fallback: false };
  return hasGitHubCredentials(env) ? { kind: "live" } : { kind: "simulate", scenario: "normal", fallback: true };
}

/** The line printed when the simulator was chosen because no credentials were found. */
export const simulatorFallbackNotice = `no GitHub credentials found (${credentialVariables.join(", ")}): using the bundled simulator. Pass --live to use the real runtime.`;
