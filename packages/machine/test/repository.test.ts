import { describe, expect, test } from "vitest";
import { checkRepository, formatRepository, parseRepository, type RepositoryProblem } from "../src/index.js";

describe("checkRepository follows GitHub's naming rules", () => {
  test.each<[string, string, string | undefined, RepositoryProblem | null]>([
    ["github", "copilot-sdk", undefined, null],
    ["a", "b", undefined, null],
    ["a-b-c", "x.y_z-1", "main", null],
    ["x".repeat(39), "n".repeat(100), "feature/new-thing", null],
    ["octo", ".github", "release/v1.2", null],
    ["octo", "demo", "users/me/fix-#12", null],
    ["-octo", "demo", undefined, "owner-invalid"],
    ["octo-", "demo", undefined, "owner-invalid"],
    ["oc--to", "demo", undefined, "owner-invalid"],
    ["oc_to", "demo", undefined, "owner-invalid"],
    ["", "demo", undefined, "owner-invalid"],
    ["x".repeat(40), "demo", undefined, "owner-invalid"],
    ["octo", "", undefined, "name-invalid"],
    ["octo", ".", undefined, "name-invalid"],
    ["octo", "..", undefined, "name-invalid"],
    ["octo", "a b", undefined, "name-invalid"],
    ["octo", "n".repeat(101), undefined, "name-invalid"],
    ["octo", "demo", "", "branch-invalid"],
    ["octo", "demo", "a..b", "branch-invalid"],
    ["octo", "demo", "-main", "branch-invalid"],
    ["octo", "demo", "main.lock", "branch-invalid"],
    ["octo", "demo", "main/", "branch-invalid"],
    ["octo", "demo", "/main", "branch-invalid"],
    ["octo", "demo", "a//b", "branch-invalid"],
    ["octo", "demo", "a@{b", "branch-invalid"],
    ["octo", "demo", "@", "branch-invalid"],
    ["octo", "demo", "with space", "branch-invalid"],
    ["octo", "demo", "a~1", "branch-invalid"],
    ["octo", "demo", "a:b", "branch-invalid"],
    ["octo", "demo", "feature/.hidden", "branch-invalid"],
    ["octo", "demo", "ends.", "branch-invalid"],
    ["octo", "demo", "b".repeat(256), "branch-invalid"],
  ])("%s/%s@%s → %s", (owner, name, branch, problem) => {
    const result = checkRepository(branch === undefined ? { owner, name } : { owner, name, branch });
    if (problem === null) expect(result).toEqual({ ok: true, repository: branch === undefined ? { owner, name } : { owner, name, branch } });
    else expect(result).toMatchObject({ ok: false, problem });
  });
});

describe("parseRepository", () => {
  test.each<[string, ReturnType<typeof parseRepository>["ok"], string | undefined]>([
    ["github/copilot-sdk", true, undefined],
    ["github/copilot-sdk@main", true, "main"],
    ["github/copilot-sdk@feature/x", true, "feature/x"],
  ])("%s parses", (text, ok, branch) => {
    const result = parseRepository(text);
    expect(result.ok).toBe(ok);
    if (result.ok) {
      expect(result.repository.branch).toBe(branch);
      expect(formatRepository(result.repository)).toBe(text);
    }
  });

  test.each(["github", "github/", "/copilot-sdk", "a/b/c", "", "@main"])("%j is not owner/name", (text) => {
    expect(parseRepository(text)).toMatchObject({ ok: false, problem: "format-invalid" });
  });

  test("parts are checked after parsing", () => {
    expect(parseRepository("-bad/name")).toMatchObject({ ok: false, problem: "owner-invalid" });
    expect(parseRepository("octo/demo@")).toMatchObject({ ok: false, problem: "branch-invalid" });
    expect(parseRepository("octo/demo@a..b")).toMatchObject({ ok: false, problem: "branch-invalid" });
  });
});
