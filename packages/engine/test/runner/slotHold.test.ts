import { describe, expect, test } from "vitest";
import { SlotHold } from "../../src/slotHold.js";
import { Slots } from "../../src/slots.js";
import { flush } from "./fakes.js";

/** Whether `promise` has settled by the time queued callbacks have run. */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await flush();
  return settled;
}

describe("SlotHold", () => {
  test("acquire holds one slot; acquiring again while held takes no second one", async () => {
    const slots = new Slots(2);
    const hold = new SlotHold(slots);
    await hold.acquire(() => true);
    await hold.acquire(() => true);
    // One slot left: the next comer gets it at once, the one after waits.
    expect(await hasSettled(slots.acquire().granted)).toBe(true);
    expect(await hasSettled(slots.acquire().granted)).toBe(false);
  });

  test("release gives the slot back once: a second release gives back nothing", async () => {
    const slots = new Slots(1);
    const hold = new SlotHold(slots);
    await hold.acquire(() => true);
    hold.release();
    hold.release();
    expect(await hasSettled(slots.acquire().granted)).toBe(true);
    expect(await hasSettled(slots.acquire().granted)).toBe(false);
  });

  test("release without a slot held gives back nothing", async () => {
    const slots = new Slots(1);
    await slots.acquire().granted;
    new SlotHold(slots).release();
    expect(await hasSettled(slots.acquire().granted)).toBe(false);
  });

  test("a slot granted to a session no longer wanting it is handed straight on to the next in line", async () => {
    const slots = new Slots(1);
    const first = new SlotHold(slots);
    await first.acquire(() => true);
    let wanted = true;
    const second = new SlotHold(slots);
    const secondAcquired = second.acquire(() => wanted);
    const third = slots.acquire().granted;
    wanted = false; // the second session ended while it waited
    first.release();
    expect(await hasSettled(secondAcquired)).toBe(true);
    expect(await hasSettled(third)).toBe(true);
    // And the second does not give it back again.
    second.release();
    expect(await hasSettled(slots.acquire().granted)).toBe(false);
  });

  test("cancel leaves the line: the waiting acquire never resolves and the next release skips it", async () => {
    const slots = new Slots(1);
    const first = new SlotHold(slots);
    await first.acquire(() => true);
    const waiting = new SlotHold(slots);
    const waited = waiting.acquire(() => true);
    const next = slots.acquire().granted;
    waiting.cancel();
    expect(slots.queued).toBe(1);
    first.release();
    expect(await hasSettled(next)).toBe(true);
    expect(await hasSettled(waited)).toBe(false);
  });

  test("cancel when not waiting changes nothing", async () => {
    const slots = new Slots(1);
    const hold = new SlotHold(slots);
    hold.cancel();
    await hold.acquire(() => true);
    hold.cancel();
    expect(await hasSettled(slots.acquire().granted)).toBe(false);
    hold.release();
    expect(slots.queued).toBe(0);
  });
});
