import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { buildClient } from "./clientBuild.js";

/** One file the page loads. */
export interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

/** What the page loads, by path below the dashboard: `assets/app.js`, `assets/app.css`. */
export type Assets = ReadonlyMap<string, Asset>;

function asset(text: string, contentType: string): Asset {
  const body = Buffer.from(text, "utf8");
  return { body, contentType, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 16)}"` };
}

/**
 * The page's bundle: the one built into `dist/client/` beside this module (the published package),
 * else built now from `client/` (the workspace, running from TypeScript sources).
 */
export async function loadAssets(): Promise<Assets> {
  const built = new URL("./client/", import.meta.url);
  let bundle: { script: string; styles: string };
  try {
    const [script, styles] = await Promise.all([readFile(new URL("app.js", built), "utf8"), readFile(new URL("app.css", built), "utf8")]);
    bundle = { script, styles };
  } catch {
    bundle = await buildClient();
  }
  return new Map([
    ["assets/app.js", asset(bundle.script, "text/javascript; charset=utf-8")],
    ["assets/app.css", asset(bundle.styles, "text/css; charset=utf-8")],
  ]);
}
