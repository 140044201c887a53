import { existsSync } from "node:fs";
import type { Browser, BrowserContext } from "playwright-core";

/** Where Debian's `chromium` package (and other distributions') put the browser. */
const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"];

/** The message browser tests skip with when there is no browser. */
export const CHROMIUM_MISSING =
  "no Chromium found (set CLOUDSESSION_CHROMIUM, or install Debian's: apt-get install -y --no-install-recommends chromium; .ci/run does): browser tests skipped";

/** Flags for a headless browser on a machine with no display, no sandbox (root) and no network of its own. */
export const chromiumArgs = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"];

/**
 * The Chromium executable to drive: `CLOUDSESSION_CHROMIUM`, else the first of the usual paths
 * that exists. Playwright's own browser download is not used (it needs the internet).
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env["CLOUDSESSION_CHROMIUM"];
  if (given !== undefined && given !== "") return existsSync(given) ? given : undefined;
  return CANDIDATES.find((path) => existsSync(path));
}

/** Launches that Chromium headless through `playwright-core`. */
export async function launchChromium(executablePath: string): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath, args: chromiumArgs });
}

/** Requests a page made to hosts other than the dashboard's, as they happened. */
export interface ForeignRequests {
  readonly urls: readonly string[];
}

/**
 * Records (and blocks) every request of `context` whose origin is not `origin`: the proof that the
 * page talks to nobody else. `data:` URLs never leave the page and are not requests.
 */
export async function watchForeignRequests(context: BrowserContext, origin: string): Promise<ForeignRequests> {
  const urls: string[] = [];
  await context.route("**/*", async (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) await route.continue();
    else {
      urls.push(url);
      await route.abort("blockedbyclient");
    }
  });
  context.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith("data:") && new URL(url).origin !== origin && !urls.includes(url)) urls.push(url);
  });
  return { urls };
}
