import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The platform package name the SDK resolves its runtime from, e.g. `@github/copilot-sdk-linux-x64`. */
export function platformPackageName(platform: string = process.platform, arch: string = process.arch): string {
  return `@github/copilot-sdk-${platform}-${arch}`;
}

/**
 * Where the runtime bundled with `@github/copilot-sdk` is: the `copilot-runtime` launcher of its
 * platform package (next to `runtime.node`), found the way the SDK finds it (from the SDK's own
 * folder). `undefined` when the platform package is not installed; runtime tests then skip loudly.
 *
 * @example
 * const launcher = findBundledRuntime();
 * if (launcher === undefined) console.warn("no bundled runtime");
 */
export function findBundledRuntime(): string | undefined {
  const require = createRequire(import.meta.url);
  let sdkEntry: string;
  try {
    sdkEntry = require.resolve("@github/copilot-sdk");
  } catch {
    return undefined;
  }
  const name = platformPackageName();
  const platform = `${process.platform}-${process.arch}`;
  const searchPaths = createRequire(sdkEntry).resolve.paths(name) ?? [];
  for (const base of searchPaths) {
    const root = join(base, ...name.split("/"));
    const launcher = join(root, "prebuilds", platform, "copilot-runtime");
    if (existsSync(launcher) && existsSync(join(dirname(launcher), "runtime.node"))) return launcher;
  }
  return undefined;
}

/** The banner runtime tests print when they skip: skipping must never be silent. */
export function missingRuntimeBanner(suite: string): string {
  const line = "!".repeat(78);
  return [
    line,
    `!! SKIPPING ${suite}: the Copilot runtime platform package ${platformPackageName()} is not installed.`,
    "!! These tests drive the REAL runtime bundled with @github/copilot-sdk; without it nothing here is proven.",
    "!! Install it with `pnpm install` on a supported platform (it is an optional dependency of the SDK).",
    line,
  ].join("\n");
}

/** The installed `@github/copilot-sdk` version (its `package.json` is not exported, so it is found on disk). */
export function installedSdkVersion(): string {
  let dir = dirname(createRequire(import.meta.url).resolve("@github/copilot-sdk"));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; version?: string };
      if (parsed.name === "@github/copilot-sdk" && parsed.version !== undefined) return parsed.version;
    }
    const parent = dirname(dir);
    if (parent === dir) return "unknown";
    dir = parent;
  }
}
