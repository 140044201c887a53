import type { UserWorkspaceConfig } from "vitest/config";

const sourceCondition = "@cloudsession/source";

/** Per-package vitest settings: run workspace packages from their TypeScript sources. */
export function sharedProject(packageDir: string): UserWorkspaceConfig {
  return {
    root: packageDir,
    resolve: { conditions: [sourceCondition] },
    // `resolve.conditions` alone does not reach Node-side (SSR) resolution in vitest.
    ssr: { resolve: { conditions: [sourceCondition], externalConditions: [sourceCondition] } },
    test: {
      include: ["test/**/*.test.ts", "src/**/*.test.ts"],
      testTimeout: 30_000,
      hookTimeout: 60_000,
    },
  };
}
