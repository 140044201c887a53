/**
 * @cloudsession/cli: the `cloudsession` command. The programmatic surface is small: `main` (what
 * the binary runs), `runDemo`, the exit codes, and the pieces other tools reuse (the inspector
 * relay and redaction, the transitions of a log, the lifecycle diagram).
 */
export { main, createProgram, normalizeArgv } from "./program.js";
export type { CliIo } from "./program.js";
export { runDemo } from "./demo.js";
export type { DemoOptions, DemoResult } from "./demo.js";
export { ExitCode, exitCodeForOutcome, exitCodeHelp } from "./exitCodes.js";
export { CliError, isCliError } from "./cliError.js";
export type { CliErrorCode } from "./cliError.js";
export { replayTransitions, statePath, TransitionTap } from "./transitions.js";
export type { Transition } from "./transitions.js";
export type { NdjsonRecord } from "./output/ndjson.js";
export { startInspectorRelay } from "./inspector/relay.js";
export type { InspectorRelay, InspectorRelayOptions } from "./inspector/relay.js";
export { createSessionInspector } from "./inspector/sessionInspector.js";
export type { SessionInspector } from "./inspector/sessionInspector.js";
export { redact, REDACTED } from "./inspector/redact.js";
export { resolveStoreLocation, defaultStoreDirectory } from "./storeLocation.js";
export type { StoreLocation } from "./storeLocation.js";
export { chooseRuntime, hasGitHubCredentials } from "./runtimeChoice.js";
export type { RuntimeChoice } from "./runtimeChoice.js";
