import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";

/**
 * docs/architecture.md is kept true by the code's names: every module it names must exist, every
 * box of its picture must name something its file declares, and every code name it quotes must
 * still be in the sources. A rename or a removal fails here until the page follows.
 */
const root = new URL("../../../", import.meta.url);
const engineSource = new URL("packages/engine/src/", root);
const guide = readFileSync(new URL("docs/architecture.md", root), "utf8");

/** A module as the page writes it: from the repository root (`packages/…`), else within the engine's sources. */
function resolveModule(path: string): URL {
  return path.startsWith("packages/") ? new URL(path, root) : new URL(path, engineSource);
}

function sourceFiles(dir: URL): URL[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return sourceFiles(new URL(`${entry.name}/`, dir));
    return entry.name.endsWith(".ts") ? [new URL(entry.name, dir)] : [];
  });
}

const mermaid = /```mermaid\n([\s\S]*?)\n```/.exec(guide)?.[1] ?? "";
/** The picture's boxes that name a file: `id["Name<br/>path.ts"]`. */
const boxes = [...mermaid.matchAll(/\["([^"<]+)<br\/>([\w/.-]+\.ts)"\]/g)].map(([, name, path]) => ({ name: name!.trim(), path: path! }));
/** Every `something.ts` the page quotes. */
const quotedModules = [...new Set([...guide.matchAll(/`([\w/.-]+\.ts)`/g)].map(([, path]) => path!))];
/** Every quoted code name (`applyCommand`, `SessionRunner`): identifiers only, not event types or observables. */
const quotedNames = [...new Set([...guide.matchAll(/`([A-Za-z_]\w*)`/g)].map(([, name]) => name!))];

describe("docs/architecture.md", () => {
  test("names the engine's modules (the checks below are not vacuous)", () => {
    expect(boxes.length).toBeGreaterThanOrEqual(15);
    expect(quotedModules.filter((path) => !path.startsWith("packages/")).length).toBeGreaterThanOrEqual(20);
    expect(quotedNames.length).toBeGreaterThanOrEqual(15);
  });

  test("every module it names exists", () => {
    const missing = [...quotedModules, ...boxes.map((box) => box.path)].filter((path) => !existsSync(resolveModule(path)));
    expect(missing, "modules named in docs/architecture.md that no longer exist").toEqual([]);
  });

  test("every box of the picture names a class or function that its file declares", () => {
    const undeclared = boxes.filter(({ name, path }) => {
      const file = resolveModule(path);
      if (!existsSync(file)) return true;
      return !new RegExp(`\\b(?:class|function|interface|type|const)\\s+${name}\\b`).test(readFileSync(file, "utf8"));
    });
    expect(undeclared, "boxes whose name is not declared in the file under it").toEqual([]);
  });

  test("every code name it quotes is still in the sources", () => {
    const sources = ["engine", "rx", "machine", "store"].flatMap((pkg) => sourceFiles(new URL(`packages/${pkg}/src/`, root))).map((file) => readFileSync(file, "utf8"));
    const gone = quotedNames.filter((name) => !sources.some((source) => new RegExp(`\\b${name}\\b`).test(source)));
    expect(gone, "names quoted in docs/architecture.md found in no source file").toEqual([]);
  });
});
