import type { SessionOutcome } from "@cloudsession/machine";

/**
 * What a person should check after a session ended badly: one line, or undefined when there is
 * nothing to do. The policy case names the settings involved because only an admin can fix it.
 */
export function hintForOutcome(outcome: SessionOutcome): string | undefined {
  const failure = outcome.failure;
  if (outcome.state === "blocked" || failure?.reason === "policy_blocked") {
    return "an organisation Copilot policy or your entitlement forbids cloud sessions here: ask an org owner to check the Copilot coding agent policy for this repository's organisation, and check that your account has a Copilot plan that includes it. Retrying will not help.";
  }
  if (failure === null) {
    const lost = outcome.prompts.filter((prompt) => prompt.status !== "completed").length;
    return lost > 0 ? `${lost} prompt(s) did not complete; \`cloudsession show <id>\` lists why.` : undefined;
  }
  switch (failure.reason) {
    case "timeout":
      return failure.phase === "awaiting-agent"
        ? "the remote agent did not start in time; try again, or raise --agent-timeout."
        : "no task was reserved in time; check the runtime and your network, or raise --reservation-timeout.";
    case "turn-stalled":
      return "a turn stopped producing output and did not acknowledge its abort; raise --turn-timeout for long tasks.";
    case "retries-exhausted":
      return "createSession kept failing with transient errors; check the runtime's connectivity and try again later.";
    case "create-failed":
      return "createSession was refused; check the repository name and that Copilot can access it.";
    case "session-error":
      return "the remote session reported an error; its Mission Control page may say more.";
  }
}
