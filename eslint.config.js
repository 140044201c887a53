// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * Layers are checked, not hoped: machine ← rx ← engine → store; the dashboard above engine and
 * store; cli on top; nothing imports cli, bench or fidelity, and nothing below the dashboard imports it.
 */
const layer = (pkg, forbidden, extraPatterns = []) => ({
  files: [`packages/${pkg}/src/**/*.ts`],
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: [
          ...forbidden.map((name) => ({ group: [`@cloudsession/${name}`, `@cloudsession/${name}/*`], message: `${pkg} must not depend on ${name}` })),
          ...extraPatterns,
          { group: ["../../*/src/*", "../../*/src"], message: "no deep imports across packages: use the package name" },
        ],
      },
    ],
  },
});
const nodeOnly = (name) => ({ group: [name, `${name}/*`], message: "the machine is pure: xstate only" });

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/.turbo/**", ".tools/**", "**/coverage/**", "packages/bench/results/**", "**/.cloudsession-*/**", "reports/**", ".stryker-tmp/**"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-confusing-void-expression": "off",
      "@typescript-eslint/no-unnecessary-condition": ["error", { allowConstantLoopConditions: true }],
      "@typescript-eslint/no-extraneous-class": "off",
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: "readonly", console: "readonly", URL: "readonly" },
    },
  },
  {
    // Tests may be looser: non-null assertions on known fixtures keep them short.
    files: ["packages/*/test/**/*.ts", "**/*.test.ts"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-floating-promises": "error",
    },
  },
  layer("machine", ["rx", "engine", "store", "simulator", "dashboard", "cli", "bench", "fidelity"], [nodeOnly("rxjs"), nodeOnly("@github/copilot-sdk"), { group: ["node:*"], message: "the machine is pure: no Node APIs" }]),
  layer("rx", ["engine", "store", "simulator", "dashboard", "cli", "bench", "fidelity"]),
  layer("store", ["machine", "rx", "engine", "simulator", "dashboard", "cli", "bench", "fidelity"]),
  layer("engine", ["simulator", "dashboard", "cli", "bench", "fidelity"]),
  layer("simulator", ["machine", "rx", "engine", "store", "dashboard", "cli", "bench", "fidelity"]),
  layer("dashboard", ["simulator", "cli", "bench", "fidelity"]),
  {
    // The dashboard's page runs in a browser: no package, no Node module, only the wire types it shares with the server.
    files: ["packages/dashboard/client/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["@cloudsession/*", "node:*", "playwright-core", "esbuild"], message: "the page is a browser program: it imports only its own modules" },
            { group: ["../src/*", "!../src/protocol.js"], message: "the page shares only src/protocol.ts with the server" },
          ],
        },
      ],
    },
  },
  layer("cli", ["bench", "fidelity"]),
);
