import { execFile } from "node:child_process";

/**
 * Whether a browser may be opened: only for a person at a graphical session. Never on a pipe, in
 * CI, over SSH, or on Linux without a display, where it would hang or fail in confusing ways.
 */
export function canOpenBrowser(env: NodeJS.ProcessEnv, interactive: boolean, platform: NodeJS.Platform = process.platform): boolean {
  if (!interactive || env["CI"] !== undefined || env["SSH_CONNECTION"] !== undefined || env["CLOUDSESSION_NO_OPEN"] !== undefined) return false;
  if (platform === "darwin" || platform === "win32") return true;
  return (env["DISPLAY"] ?? "") !== "" || (env["WAYLAND_DISPLAY"] ?? "") !== "";
}

/** Opens `url` with the platform's opener, without a shell; failures are ignored (the URL is printed anyway). */
export function openBrowser(url: string, platform: NodeJS.Platform = process.platform): void {
  const [command, args] = platform === "darwin" ? ["open", [url]] : platform === "win32" ? ["cmd", ["/c", "start", "", url]] : ["xdg-open", [url]];
  const child = execFile(command, args, () => undefined);
  child.unref();
}
