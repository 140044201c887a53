export { CHROMIUM_MISSING, chromiumArgs, findChromium, launchChromium, watchForeignRequests } from "./browser.js";
export type { ForeignRequests } from "./browser.js";
