import { describe, expect, test } from "vitest";
import { reserved, rig } from "./attachmentRig.js";
import { agentStart, FakeSdkSession, flush, readyEvents, remoteInfo, T0 } from "./fakes.js";

describe("SdkAttachment.catchUpFromHistory (after a create)", () => {
  test("feeds only session.start and session.info from the history to the intake", async () => {
    const r = rig([reserved]);
    const sdk = new FakeSdkSession("sdk-1");
    sdk.histories = [[agentStart, remoteInfo, { type: "assistant.message", data: { messageId: "m1", content: "hi" } }, { type: "session.idle", data: {} }]];
    await r.attachment.catchUpFromHistory(sdk.asSdk);
    expect(r.log.events.slice(2).map((event) => event.type)).toEqual(["agent.started", "remote-url.published"]);
  });

  test("reads nothing into the log when the agent's start and the URL are already known", async () => {
    const r = rig(readyEvents(T0));
    const sdk = new FakeSdkSession("sdk-1");
    sdk.histories = [[agentStart, remoteInfo]];
    await r.attachment.catchUpFromHistory(sdk.asSdk);
    expect(r.log.events).toHaveLength(4);
  });

  test("a failed history read is retried (after 100 ms, then 200 ms, on the engine's clock)", async () => {
    const r = rig([reserved]);
    const sdk = new FakeSdkSession("sdk-1");
    sdk.histories = [new Error("read failed"), new Error("read failed"), [agentStart]];
    const done = r.attachment.catchUpFromHistory(sdk.asSdk);
    await flush();
    r.env.clock.advance(99);
    await flush();
    expect(sdk.getEventsCalls).toBe(1);
    r.env.clock.advance(1);
    await flush();
    expect(sdk.getEventsCalls).toBe(2);
    r.env.clock.advance(200);
    await done;
    expect(sdk.getEventsCalls).toBe(3);
    expect(r.log.ofType("agent.started")).toHaveLength(1);
    expect(r.env.backgroundErrors).toEqual([]);
  });

  test("after three failed reads it gives up and reports the error", async () => {
    const r = rig([reserved]);
    const sdk = new FakeSdkSession("sdk-1");
    const failure = new Error("read failed");
    sdk.histories = [failure];
    const done = r.attachment.catchUpFromHistory(sdk.asSdk);
    for (const wait of [100, 200]) {
      await flush();
      r.env.clock.advance(wait);
    }
    await done;
    expect(sdk.getEventsCalls).toBe(3);
    expect(r.env.backgroundErrors).toEqual([failure]);
    expect(r.log.events).toHaveLength(2);
  });

  test("a runner that stopped gives up at the first failed read", async () => {
    const r = rig([reserved]);
    r.state.stopped = true;
    const sdk = new FakeSdkSession("sdk-1");
    sdk.histories = [new Error("read failed")];
    await r.attachment.catchUpFromHistory(sdk.asSdk);
    expect(sdk.getEventsCalls).toBe(1);
    expect(r.env.backgroundErrors).toHaveLength(1);
  });

  test("a read cut by a lost connection is no error: the connection is replaced, and the re-attach reads the history", async () => {
    const r = rig([reserved]);
    const sdk = new FakeSdkSession("sdk-1");
    r.attachment.use(sdk.asSdk);
    sdk.histories = [new Error("Pending response rejected since connection got disposed")];
    await r.attachment.catchUpFromHistory(sdk.asSdk);
    await flush();
    expect(sdk.getEventsCalls).toBe(1);
    expect(r.env.backgroundErrors).toEqual([]);
    expect(r.env.fakeRuntime.replaces).toBe(1);
    expect(r.steps).toContain("connection-lost");
  });
});
