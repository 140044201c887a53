import { readFile } from "node:fs/promises";
import { expect, test } from "vitest";

const repositoryRoot = new URL("../../../", import.meta.url);

/** The lines between `// #region name` and `// #endregion name`, without their common indentation. */
async function region(path: string, name: string): Promise<string> {
  const source = await readFile(new URL(path, repositoryRoot), "utf8");
  const lines = source.split("\n");
  const start = lines.findIndex((line) => line.trim() === `// #region ${name}`);
  const end = lines.findIndex((line, index) => index > start && line.trim() === `// #endregion ${name}`);
  if (start === -1 || end === -1) throw new Error(`no region ${name} in ${path}`);
  const body = lines.slice(start + 1, end);
  const indent = Math.min(...body.filter((line) => line.trim() !== "").map((line) => /^ */.exec(line)?.[0].length ?? 0));
  return body.map((line) => line.slice(indent)).join("\n");
}

test("every TypeScript block of docs/embedding.md is a region of the example's tested code, verbatim", async () => {
  const guide = await readFile(new URL("docs/embedding.md", repositoryRoot), "utf8");
  const blocks = [...guide.matchAll(/(?:<!-- code: (\S+)#(\S+) -->\n)?```ts\n([\s\S]*?)\n```/g)];
  expect(blocks.length).toBeGreaterThanOrEqual(8);
  for (const [, path, name, code] of blocks) {
    expect(path, `a ts block without a <!-- code: file#region --> marker:\n${code ?? ""}`).toBeDefined();
    expect(code, `${path ?? ""}#${name ?? ""}`).toBe(await region(path ?? "", name ?? ""));
  }
});
