/**
 * @cloudsession/fidelity: the real Copilot runtime bundled with `@github/copilot-sdk`, run offline on
 * loopback, and the recorded streams the simulator and the adapter are held to.
 */
export { FAKE_TOKEN, STUB_MODEL, startCapiStub } from "./capiStub.js";
export type { CapiStub, ChatScript, StubRequest } from "./capiStub.js";
export { refuseOutbound, refuseProxiedRequest } from "./refusingProxy.js";
export type { OutboundAttempt, OutboundLog } from "./refusingProxy.js";
export { createIsolatedHome, runtimeEnv } from "./runtimeEnv.js";
export type { IsolatedHome } from "./runtimeEnv.js";
export { findBundledRuntime, installedSdkVersion, missingRuntimeBanner, platformPackageName } from "./bundledRuntime.js";
export { startRealRuntime, stopClient } from "./realRuntime.js";
export type { RealRuntime } from "./realRuntime.js";
export { recordEvents } from "./sessionRecorder.js";
export type { SessionRecorder } from "./sessionRecorder.js";
export { runLocalScript, SCRIPT_PROMPTS } from "./localScript.js";
export type { LocalRun, ScriptTarget, TurnKind } from "./localScript.js";
export { realScriptTarget, STUB_REPLIES } from "./realScriptTarget.js";
export { simulatorScriptTarget, SIMULATOR_SCENARIO } from "./simulatorScriptTarget.js";
export { createNormalizer } from "./normalize.js";
export type { FixtureEvent, RawEvent } from "./normalize.js";
export { FIXTURE_NAMES, FIXTURES_DIR, ephemeralTypes, loadFixture, persistedShape } from "./fixture.js";
export type { Fixture, FixtureName } from "./fixture.js";
export { fixturesFromRun } from "./fixturesFromRun.js";
export type { RecordingMeta } from "./fixturesFromRun.js";
export { stubRequestSummary } from "./stubRequestSummary.js";
export type { StubRequestSummary } from "./stubRequestSummary.js";
