import { build } from "esbuild";

/**
 * Bundles a test's child-process script once, so hundreds of children start in a fraction of a
 * second each without a TypeScript loader. `outfile` should lie inside this package, so the
 * bundle's externals (pg, PGlite) resolve from its node_modules.
 */
export async function bundleChild(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["@cloudsession/source"],
    external: ["@electric-sql/pglite", "pg", "pg-native"],
    // Bundled CommonJS dependencies still call require().
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: "error",
  });
}
