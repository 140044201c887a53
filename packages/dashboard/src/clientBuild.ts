import { fileURLToPath } from "node:url";

/** The page's two bundled files. */
export interface ClientBundle {
  readonly script: string;
  readonly styles: string;
}

/** The page's sources: `client/` beside `src/` and `dist/`. */
export const clientSourceDir = fileURLToPath(new URL("../client/", import.meta.url));

/**
 * Bundles the page from its TypeScript and CSS sources with esbuild (one ES module, one style
 * sheet, minified, nothing left to fetch). The build script writes the result into `dist/client/`;
 * run from the sources, the server calls this once instead. esbuild is a development dependency:
 * loaded here only, so the published package never needs it.
 */
export async function buildClient(): Promise<ClientBundle> {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: { app: `${clientSourceDir}main.ts`, styles: `${clientSourceDir}styles.css` },
    bundle: true,
    format: "esm",
    target: ["chrome120", "firefox115"],
    minify: true,
    legalComments: "none",
    write: false,
    outdir: "out",
    logLevel: "silent",
  });
  const text = (suffix: string): string => {
    const file = result.outputFiles.find((output) => output.path.endsWith(suffix));
    if (file === undefined) throw new Error(`the client build made no ${suffix}`);
    return file.text;
  };
  return { script: text("app.js"), styles: text("styles.css") };
}
