import { isDeepStrictEqual } from "node:util";
import { fc } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import { PromptList, PromptListError, type PromptRecord, type PromptStatus } from "../src/index.js";
import { numRuns, runsOf } from "./harness.js";

/*
 * PromptList against a plain array: random appends, updates and settles applied to any version of
 * a growing pool of versions (so versions branch from one another, and several append from the
 * same point), every version checked against its array after the change and at the end (old
 * versions never change), and every lookup — by position, by id (ids that other branches appended
 * included), the queue — agreeing with a scan of the array.
 */

interface Version {
  readonly list: PromptList;
  readonly model: readonly PromptRecord[];
}

type Op =
  | { readonly kind: "append"; readonly from: number; readonly id: string; readonly status: PromptStatus }
  | { readonly kind: "appendMany"; readonly from: number; readonly count: number; readonly seed: number; readonly offset: number; readonly queued: boolean }
  | { readonly kind: "update"; readonly from: number; readonly pick: number; readonly status: PromptStatus; readonly reply: string | undefined }
  | { readonly kind: "updateMissing"; readonly from: number }
  | { readonly kind: "updateEach"; readonly from: number; readonly status: PromptStatus };

const statuses: readonly PromptStatus[] = ["queued", "queued", "queued", "dispatching", "sent", "completed", "interrupted", "undelivered"];
const statusArb = fc.constantFrom(...statuses);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("append" as const), from: fc.nat(), id: fc.tuple(fc.constantFrom("a", "b"), fc.nat(60)).map(([letter, n]) => `${letter}${n}`), status: statusArb }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("appendMany" as const), from: fc.nat(), count: fc.integer({ min: 1, max: 120 }), seed: fc.nat(2), offset: fc.nat(60), queued: fc.boolean() }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("update" as const), from: fc.nat(), pick: fc.nat(), status: statusArb, reply: fc.option(fc.constantFrom("r1", "r2"), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("updateMissing" as const), from: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("updateEach" as const), from: fc.nat(), status: statusArb }) },
);

function record(id: string, status: PromptStatus, at: number): PromptRecord {
  return { id, text: `text of ${id}`, status, submittedAt: at };
}

/** Where the trailing run of queued prompts starts, by scanning the array. */
function modelQueueStart(model: readonly PromptRecord[]): number {
  let start = model.length;
  while (start > 0 && model[start - 1]?.status === "queued") start--;
  return start;
}

/** Every reader of `list` agrees with `model`; ids in `elsewhere` that the model lacks are absent. */
function check(list: PromptList, model: readonly PromptRecord[], elsewhere: ReadonlySet<string>): void {
  // Plain loops and one assertion each: lists here run to 40,000 prompts.
  const same = (records: readonly (PromptRecord | undefined)[]) => records.length === model.length && records.every((prompt, index) => prompt === model[index]);
  expect(list.length).toBe(model.length);
  expect(same(list.toArray()), "toArray").toBe(true);
  expect(same([...list]), "iteration").toBe(true);
  expect(JSON.stringify(list)).toBe(JSON.stringify(model));
  expect(same(model.map((_prompt, index) => list.at(index))), "at(i)").toBe(true);
  expect(same(model.map((prompt) => list.get(prompt.id))), "get(id)").toBe(true);
  expect(list.at(model.length)).toBeUndefined();
  expect(list.at(-1)).toBe(model.at(-1));
  const ids = new Set(model.map((prompt) => prompt.id));
  expect([...elsewhere].filter((id) => !ids.has(id) && list.has(id)), "ids of other versions").toEqual([]);
  const queueStart = modelQueueStart(model);
  expect(list.queueStart).toBe(queueStart);
  expect(list.queueLength).toBe(model.length - queueStart);
  expect(list.queueHead).toBe(model[queueStart]);
  expect(list.queued()).toEqual(model.slice(queueStart));
  // The same prompts give the same structure: deep equality compares contents.
  expect(isDeepStrictEqual(list, PromptList.from(model))).toBe(true);
}

function apply(op: Op, from: Version, counter: { at: number }, everyId: Set<string>): Version {
  const { list, model } = from;
  switch (op.kind) {
    case "append": {
      const next = record(op.id, op.status, counter.at++);
      if (model.some((prompt) => prompt.id === op.id)) {
        expect(() => list.append(next)).toThrow(PromptListError);
        return from;
      }
      everyId.add(op.id);
      return { list: list.append(next), model: [...model, next] };
    }
    case "appendMany": {
      let nextList = list;
      const nextModel = [...model];
      const known = new Set(model.map((prompt) => prompt.id));
      for (let index = 0; index < op.count; index++) {
        const id = `m${op.seed}-${op.offset + index}`;
        if (known.has(id)) continue;
        const next = record(id, op.queued ? "queued" : statuses[index % statuses.length]!, counter.at++);
        everyId.add(id);
        known.add(id);
        nextList = nextList.append(next);
        nextModel.push(next);
      }
      return { list: nextList, model: nextModel };
    }
    case "update": {
      if (model.length === 0) return from;
      const position = op.pick % model.length;
      const before = model[position]!;
      const after: PromptRecord = { ...before, status: op.status, ...(op.reply === undefined ? {} : { reply: op.reply }) };
      const nextModel = [...model];
      nextModel[position] = after;
      expect(list.update(before.id, (prompt) => prompt)).toBe(list);
      expect(() => list.update(before.id, (prompt) => ({ ...prompt, id: `${prompt.id}-renamed` }))).toThrow(PromptListError);
      const seen: PromptRecord[] = [];
      const nextList = list.update(before.id, (prompt) => {
        seen.push(prompt);
        return after;
      });
      expect(seen).toEqual([before]);
      return { list: nextList, model: nextModel };
    }
    case "updateMissing":
      expect(list.update("never-appended", () => record("never-appended", "completed", 0))).toBe(list);
      return from;
    case "updateEach": {
      // The same new record on both sides, so that they can be compared by identity.
      const settled = new Map(model.map((prompt) => [prompt, prompt.status === "queued" ? { ...prompt, status: op.status, reason: "settled" } : prompt]));
      const settle = (prompt: PromptRecord): PromptRecord => settled.get(prompt) ?? prompt;
      const nextModel = model.map(settle);
      const nextList = list.updateEach(settle);
      if (model.length > 0) expect(() => list.updateEach((prompt) => ({ ...prompt, id: `${prompt.id}!` }))).toThrow(PromptListError);
      return { list: nextList, model: nextModel };
    }
  }
}

describe("PromptList: a persistent list that behaves as an array of its versions", () => {
  test("any sequence of appends and updates on any version agrees with an array, and no version ever changes", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
        const pool: Version[] = [{ list: PromptList.empty, model: [] }];
        const everyId = new Set<string>();
        const counter = { at: 0 };
        for (const op of ops) {
          const from = pool[op.from % pool.length]!;
          const next = apply(op, from, counter, everyId);
          check(next.list, next.model, everyId);
          // Persistence: the version it came from is as it was.
          check(from.list, from.model, everyId);
          if (next !== from) pool.push(next);
        }
        for (const version of pool) check(version.list, version.model, everyId);
      }),
      { numRuns: runsOf(Math.max(300, Math.floor(numRuns / 3))) },
    );
  });

  test("the array readers (map, filter, some, every, find, findIndex, forEach, slice) give what an array gives", () => {
    fc.assert(
      fc.property(fc.array(statusArb, { maxLength: 1_200 }), fc.integer({ min: -1_300, max: 1_300 }), fc.integer({ min: -1_300, max: 1_300 }), (kinds, start, end) => {
        const model = kinds.map((status, index) => record(`p${index}`, status, index));
        const list = PromptList.from(model);
        const isSent = (prompt: PromptRecord) => prompt.status === "sent";
        expect(list.map((prompt, index) => `${index}:${prompt.id}`)).toEqual(model.map((prompt, index) => `${index}:${prompt.id}`));
        expect(list.filter(isSent)).toEqual(model.filter(isSent));
        expect(list.some(isSent)).toBe(model.some(isSent));
        expect(list.every(isSent)).toBe(model.every(isSent));
        expect(list.find(isSent)).toBe(model.find(isSent));
        expect(list.findIndex(isSent)).toBe(model.findIndex(isSent));
        expect(list.find((_prompt, index) => index === model.length - 1)).toBe(model.at(-1));
        const visited: string[] = [];
        list.forEach((prompt, index) => visited.push(`${index}:${prompt.id}`));
        expect(visited).toEqual(model.map((prompt, index) => `${index}:${prompt.id}`));
        expect(list.slice(start, end)).toEqual(model.slice(start, end));
        expect(list.slice(start)).toEqual(model.slice(start));
        expect(list.at(start)).toBe(model.at(start));
      }),
      { numRuns: runsOf(300) },
    );
  });

  test("three levels deep (40,000 prompts), versions branching at the ends of leaves and of levels stay apart", () => {
    const model: PromptRecord[] = [];
    let list = PromptList.empty;
    const branchPoints = new Map<number, PromptList>();
    for (let index = 0; index < 40_000; index++) {
      if (index === 31 || index === 32 || index === 1_055 || index === 1_056 || index === 32_800 || index === 39_999) branchPoints.set(index, list);
      const next = record(`p${index}`, index < 30_000 ? "completed" : "queued", index);
      model.push(next);
      list = list.append(next);
    }
    const everyId = new Set(model.map((prompt) => prompt.id));
    // Each branch appends prompts of its own, some with ids the main line has at later positions.
    const branches = [...branchPoints].map(([at, base]) => {
      const extra = [record(`branch-${at}`, "queued", at), record(`p${at + 5}`, "queued", at + 1)];
      extra.forEach((prompt) => everyId.add(prompt.id));
      let branch = base;
      for (const prompt of extra) branch = branch.append(prompt);
      return { list: branch, model: [...model.slice(0, at), ...extra] };
    });
    for (const branch of branches) check(branch.list, branch.model, everyId);
    check(list, model, everyId);
    // Updates deep in the trie and in the tail, on the main line, leave the branches alone.
    const updated = list.update("p5", (prompt) => ({ ...prompt, reply: "deep" })).update("p39999", (prompt) => ({ ...prompt, status: "dispatching" }));
    expect(updated.get("p5")?.reply).toBe("deep");
    expect(updated.queueStart).toBe(40_000);
    expect(list.get("p5")?.reply).toBeUndefined();
    for (const branch of branches) check(branch.list, branch.model, everyId);
  });

  test("an append copies one leaf's path at most, and an update one path: the rest is shared", () => {
    let list = PromptList.empty;
    for (let index = 0; index < 50_000; index++) {
      const next = list.append(record(`p${index}`, "queued", index));
      // The new tail, plus (every 32nd append) the path from the root to the pushed leaf: at most
      // one node per level (4 levels at this size) and one new root.
      expect(PromptList.copiedNodes(next, list)).toBeLessThanOrEqual(6);
      list = next;
    }
    const updated = list.update("p7", (prompt) => ({ ...prompt, status: "dispatching" }));
    expect(PromptList.copiedNodes(updated, list)).toBe(4);
    expect(PromptList.copiedNodes(list, list)).toBe(0);
  });
});
