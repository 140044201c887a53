/**
 * @cloudsession/simulator: a loopback JSON-RPC Copilot runtime for the real `@github/copilot-sdk`
 * client, with scripted cloud-session behaviours and faults.
 */
export { startSimulator } from "./server.js";
export type { Simulator, SimulatorOptions } from "./server.js";
export { defineScenario, behaviourFor, replyFor, DEFAULT_BEHAVIOUR } from "./scenario.js";
export type { Behaviour, CreateFault, Range, ReplyContext, ReplyScript, Scenario, ScenarioInput, TurnFault } from "./scenario.js";
export { PRESET_NAMES, PRESET_BEHAVIOURS, isPresetName, presetScenario, untidyBehaviour } from "./presets.js";
export { UNTIDY_DEFAULTS } from "./untidy.js";
export type { Untidy } from "./untidy.js";
export type { PresetName } from "./presets.js";
export type {
  CallerIdentity,
  CreateParamsRecord,
  PromptRecord,
  ResumeParamsRecord,
  SessionStats,
  SimulatorStats,
  UntidyStats,
} from "./stats.js";
export { EPHEMERAL_EVENT_TYPES, isEphemeralType } from "./events.js";
export type { SessionEvent } from "./events.js";
export { createRng, deriveSeed } from "./rng.js";
export type { Rng } from "./rng.js";
export { PROTOCOL_VERSION } from "./dispatcher.js";
export type { RpcErrorData } from "./rpcErrors.js";
export { SimulatorError, isSimulatorError } from "./simulatorError.js";
export type { SimulatorErrorCode } from "./simulatorError.js";
export { main } from "./cli.js";
