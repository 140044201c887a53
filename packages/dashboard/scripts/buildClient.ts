// Bundles the page into dist/client/ (app.js, app.css) after `tsc`: the published package serves
// these files and never needs esbuild. Run by `pnpm --filter @cloudsession/dashboard build`.
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildClient } from "../src/clientBuild.js";

const out = resolve(import.meta.dirname, "../dist/client");
const bundle = await buildClient();
mkdirSync(out, { recursive: true });
writeFileSync(resolve(out, "app.js"), bundle.script);
writeFileSync(resolve(out, "app.css"), bundle.styles);
console.log(`dist/client: app.js ${bundle.script.length} bytes, app.css ${bundle.styles.length} bytes`);
