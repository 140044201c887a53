import { describe, expect, test } from "vitest";
import { mapSdkEvent, type RawSessionEvent } from "../src/index.js";

const at = 42;

describe("mapSdkEvent: what each SDK event means to the lifecycle", () => {
  test("an event whose data is null or missing reads as one with no fields: no crash, defaults apply", () => {
    for (const data of [null, undefined, "text", 7]) {
      const event = (type: string): RawSessionEvent => ({ type, data });
      expect(mapSdkEvent(event("session.idle"), at)).toStrictEqual({ type: "turn.idle", aborted: false, at });
      expect(mapSdkEvent(event("session.start"), at)).toBeUndefined();
      expect(mapSdkEvent(event("session.info"), at)).toBeUndefined();
      expect(mapSdkEvent(event("session.error"), at)).toStrictEqual({ type: "session.errored", message: "session error", at });
    }
    expect(mapSdkEvent({ type: "session.idle" }, at)).toStrictEqual({ type: "turn.idle", aborted: false, at });
  });

  test("only a remote info event with a url publishes the session's URL", () => {
    const url = "https://github.com/copilot/tasks/s1";
    expect(mapSdkEvent({ type: "session.info", data: { infoType: "remote", url } }, at)).toStrictEqual({ type: "remote-url.published", url, at });
    expect(mapSdkEvent({ type: "session.info", data: { infoType: "notification", url } }, at)).toBeUndefined();
    expect(mapSdkEvent({ type: "session.info", data: { url } }, at)).toBeUndefined();
    expect(mapSdkEvent({ type: "session.info", data: { infoType: "remote" } }, at)).toBeUndefined();
    expect(mapSdkEvent({ type: "session.info", data: { infoType: "remote", url: 3 } }, at)).toBeUndefined();
  });

  test("assistant text without a message id keeps an empty id; without text it is not an event", () => {
    expect(mapSdkEvent({ type: "assistant.message_delta", data: { deltaContent: "He" } }, at)).toStrictEqual({ type: "assistant.delta", messageId: "", text: "He", at });
    expect(mapSdkEvent({ type: "assistant.message", data: { content: "Hello" } }, at)).toStrictEqual({ type: "assistant.message", messageId: "", text: "Hello", at });
    expect(mapSdkEvent({ type: "assistant.message_delta", data: { messageId: "m1" } }, at)).toBeUndefined();
    expect(mapSdkEvent({ type: "assistant.message", data: { messageId: "m1" } }, at)).toBeUndefined();
  });

  test("a session error carries its errorType only when the SDK gave one as a string (no errorType: undefined key)", () => {
    expect(mapSdkEvent({ type: "session.error", data: { message: "boom" } }, at)).toStrictEqual({ type: "session.errored", message: "boom", at });
    expect(mapSdkEvent({ type: "session.error", data: { message: "boom", errorType: 5 } }, at)).toStrictEqual({ type: "session.errored", message: "boom", at });
    expect(mapSdkEvent({ type: "session.error", data: { message: "boom", errorType: "quota" } }, at)).toStrictEqual({ type: "session.errored", message: "boom", errorType: "quota", at });
  });

  test("a session start names its producer; an idle is aborted only when the SDK says aborted: true", () => {
    expect(mapSdkEvent({ type: "session.start", data: { producer: "copilot-agent" } }, at)).toStrictEqual({ type: "agent.started", producer: "copilot-agent", at });
    expect(mapSdkEvent({ type: "session.idle", data: { aborted: true } }, at)).toStrictEqual({ type: "turn.idle", aborted: true, at });
    expect(mapSdkEvent({ type: "session.idle", data: { aborted: "yes" } }, at)).toStrictEqual({ type: "turn.idle", aborted: false, at });
    expect(mapSdkEvent({ type: "session.title_changed", data: { title: "t" } }, at)).toBeUndefined();
  });
});
