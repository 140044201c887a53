import type { SessionOutcome } from "@cloudsession/machine";
import { credentialVariables, type RuntimeChoice } from "./runtimeChoice.js";

/** What a hint may name besides the outcome: the runtime used, and what the session met on its way. */
export interface HintContext {
  readonly session: string;
  readonly runtime: RuntimeChoice;
  /** Whether a credential variable (GH_TOKEN, …) is set. */
  readonly hasCredentials: boolean;
  /** The message of the session's last failed reservation attempt, when there was one. */
  readonly lastReservationError?: string;
  /** How the user calls the CLI. */
  readonly command: string;
}

/** The runtime answers cloud creates with this when it offers no cloud sessions (docs/real-runtime.md). */
const noCloudSessions = /Unhandled method session\.create/i;

function runtimeName(runtime: RuntimeChoice): string {
  switch (runtime.kind) {
    case "simulate":
      return "the bundled simulator";
    case "live":
      return "the Copilot runtime";
    case "external":
      return `the runtime at ${runtime.url}`;
  }
}

function createRefusedHint(message: string, context: HintContext): string {
  if (noCloudSessions.test(message)) {
    if (!context.hasCredentials) {
      return `the Copilot runtime offers no cloud sessions without GitHub credentials, and none were given (${credentialVariables.join(", ")} are unset): set one of them to a token with Copilot access, or drop --live to run on the bundled simulator.`;
    }
    return "this Copilot runtime offers no cloud sessions (it does not handle session.create): check that the token has a Copilot plan with the coding agent and that the runtime version supports cloud sessions; --simulate runs on the bundled simulator.";
  }
  return "createSession was refused; check the repository name and that Copilot can access it.";
}

/**
 * What a person should check after a session ended badly, naming the cause and the next step: one
 * line, or undefined when there is nothing to do. The policy case names the settings involved
 * because only an admin can fix it.
 */
export function hintForOutcome(outcome: SessionOutcome, context: HintContext): string | undefined {
  const failure = outcome.failure;
  if (outcome.state === "blocked" || failure?.reason === "policy_blocked") {
    return "an organisation Copilot policy or your entitlement forbids cloud sessions here: ask an org owner to check the Copilot coding agent policy for this repository's organisation, and check that your account has a Copilot plan that includes it. Retrying will not help.";
  }
  if (failure === null) {
    const lost = outcome.prompts.filter((prompt) => prompt.status !== "completed").length;
    return lost > 0 ? `${lost} prompt(s) did not complete; \`${context.command} show ${context.session}\` lists why.` : undefined;
  }
  const lastTry = context.lastReservationError === undefined ? "" : ` The last try failed with: ${context.lastReservationError}.`;
  switch (failure.reason) {
    case "timeout":
      return failure.phase === "awaiting-agent"
        ? "the remote agent did not start in time; try again, or raise --agent-timeout."
        : `no task was reserved in time by ${runtimeName(context.runtime)}.${lastTry} Check that the runtime is up and reachable, or raise --reservation-timeout.`;
    case "turn-stalled":
      return "a turn stopped producing output and did not acknowledge its abort; raise --turn-timeout for long tasks.";
    case "retries-exhausted":
      return `createSession kept failing with transient errors.${lastTry} Check the runtime's connectivity and try again later.`;
    case "create-failed":
      return createRefusedHint(failure.message, context);
    case "session-error":
      return "the remote session reported an error; its Mission Control page may say more.";
    case "runtime-unreachable":
      return `the engine lost contact with ${runtimeName(context.runtime)} and could not get it back within the limit; check that the runtime is up and reachable, then start the session again (--unreachable-timeout raises the limit).`;
  }
}
