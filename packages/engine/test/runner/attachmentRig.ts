/** The SdkAttachment under test, with its session's port, an intake and the fakes around them. */
import type { SessionEvent } from "@cloudsession/machine";
import type { RawSessionEvent } from "@cloudsession/rx";
import { contactLost } from "../../src/contactEvents.js";
import { SdkAttachment, type AttachmentPort } from "../../src/sdkAttachment.js";
import { SdkEventIntake } from "../../src/sdkEventIntake.js";
import { fakeEnvironment, FakeSdkSession, MachineLog, requestAt, T0, type FakeEnvironment, type FakeOwnership } from "./fakes.js";

export interface Rig {
  readonly env: FakeEnvironment;
  readonly log: MachineLog;
  readonly attachment: SdkAttachment;
  /** Steps in order: commits, waits, history reads, new attachments. */
  readonly steps: string[];
  readonly state: { stopped: boolean; finalized: boolean; reconciles: number };
}

export const reserved: SessionEvent = { type: "reservation.succeeded", sessionId: "sdk-1", at: T0 };
export const submitted: SessionEvent = { type: "prompt.submitted", promptId: "p1", text: "hello", at: T0 };
export const dispatching: SessionEvent = { type: "prompt.dispatching", promptId: "p1", at: T0 };

/** A session whose log holds `given`; its SDK session `sdk-1` resumes as a fresh fake unless a test says otherwise. */
export function rig(given: readonly SessionEvent[], options: { ownership?: FakeOwnership } = {}): Rig {
  const env = fakeEnvironment(options);
  const log = new MachineLog(requestAt(T0)).given(...given);
  const steps: string[] = [];
  log.trace = (step) => steps.push(step);
  env.fakeRuntime.fakeClient.onResume = (sessionId) => {
    const sdk = new FakeSdkSession(sessionId);
    sdk.trace = (step) => steps.push(step);
    return Promise.resolve(sdk);
  };
  const state = { stopped: false, finalized: false, reconciles: 0 };
  const intake = new SdkEventIntake(env, {
    get finalized() {
      return state.finalized;
    },
    isStopped: () => state.stopped,
    record: (event) => void log.commit([event]),
    showLive: () => undefined,
    turnStallTimeoutMs: () => log.snapshot().context.settings.turnStallTimeoutMs,
  });
  const port: AttachmentPort = {
    id: "s1",
    get sessionId() {
      return log.snapshot().context.sessionId;
    },
    get finalized() {
      return state.finalized;
    },
    snapshot: () => log.snapshot(),
    isStopped: () => state.stopped,
    acquireSlot: () => Promise.resolve(),
    commit: (events) => log.commit(events),
    // As the runner: out of contact, then re-attach.
    onConnectionLost: async () => {
      steps.push("connection-lost");
      await log.commit(() => contactLost(log.snapshot(), env.clock.now()));
      await attachment.onClientReplaced();
    },
    attached: () => void steps.push("attached"),
    reconcile: () => {
      state.reconciles++;
    },
    sleep: (ms) => {
      steps.push(`sleep:${ms}`);
      return new Promise((resolve) => env.clock.setTimeout(resolve, ms));
    },
  };
  const attachment = new SdkAttachment(env, intake, port);
  // As the engine: every session hears of a lost connection.
  env.fakeRuntime.onLost(() => void port.onConnectionLost());
  return { env, log, attachment, steps, state };
}

export const resumesOf = (r: Rig) => r.env.fakeRuntime.fakeClient.resumes;
export const history = (...events: RawSessionEvent[]) => (r: Rig) => {
  r.env.fakeRuntime.fakeClient.onResume = (sessionId) => {
    const sdk = new FakeSdkSession(sessionId);
    sdk.trace = (step) => r.steps.push(step);
    sdk.histories = [events];
    return Promise.resolve(sdk);
  };
};
