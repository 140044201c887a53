// @ts-check
/**
 * Import cycles are forbidden in every package, example and script: run by `pnpm run lint`
 * (`depcruise … --config .dependency-cruiser.mjs`). Type-only imports count: a circle of types is
 * still two modules that cannot be read, moved or tested one without the other (break it by moving
 * the shared part into its own module). Layers between packages are kept by ESLint's
 * `no-restricted-imports` (eslint.config.js).
 *
 * @type {import("dependency-cruiser").IConfiguration}
 */
export default {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "An import circle: move what both sides need into a module of its own, so the imports point one way.",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // As in eslint.config.js and .gitignore: builds, reports, scratch copies (`.cloudsession-*`) and
    // Stryker's mutation reports and sandbox.
    exclude: { path: ["(^|/)dist/", "(^|/)coverage/", "^packages/bench/results/", "(^|/)\\.cloudsession-", "^reports/", "^\\.stryker-tmp/"] },
    // `import type` counts too (see above).
    tsPreCompilationDeps: true,
    // Workspace packages resolve to their TypeScript sources, as in vitest and tsx; `./x.js` in a
    // TypeScript file is `./x.ts`.
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["@cloudsession/source", "import", "types", "node", "default"],
      extensions: [".ts", ".mts", ".js", ".mjs", ".cjs", ".json", ".d.ts"],
    },
    preserveSymlinks: false,
    cache: false,
  },
};
