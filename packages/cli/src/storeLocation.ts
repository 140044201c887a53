import { maskConnectionString, openStore, type EventStore } from "@cloudsession/store";
import envPaths from "env-paths";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { CliError } from "./cliError.js";

/** Where the event log lives, as given by `--store`, `CLOUDSESSION_STORE` or the default. */
export interface StoreLocation {
  /** What `openStore` receives: a directory, `postgres://…`, or `memory:`. */
  readonly spec: string;
  /** For people: the directory, or the connection string with its secrets masked (password, `?password=`). */
  readonly label: string;
  readonly kind: "pglite" | "postgres" | "memory";
  readonly isDefault: boolean;
}

/**
 * The embedded store's default directory: `$XDG_DATA_HOME/cloudsession/store` on Linux
 * (`~/.local/share/…`), the platform's data directory elsewhere (env-paths).
 */
export function defaultStoreDirectory(): string {
  return join(envPaths("cloudsession", { suffix: "" }).data, "store");
}

/**
 * Resolves `--store <directory | postgres://… | memory:>`; without it `CLOUDSESSION_STORE`, then
 * the default directory.
 *
 * @example
 * resolveStoreLocation(undefined, {}).kind // "pglite"
 */
export function resolveStoreLocation(flag: string | undefined, env: NodeJS.ProcessEnv): StoreLocation {
  const given = flag ?? env["CLOUDSESSION_STORE"];
  if (given === undefined || given === "") {
    const dir = defaultStoreDirectory();
    return { spec: dir, label: dir, kind: "pglite", isDefault: true };
  }
  if (/^postgres(ql)?:\/\//i.test(given)) return { spec: given, label: maskConnectionString(given), kind: "postgres", isDefault: false };
  if (given.startsWith("memory:") && !given.startsWith("memory://")) return { spec: given, label: "memory (gone at exit)", kind: "memory", isDefault: false };
  const dir = resolve(given);
  return { spec: dir, label: dir, kind: "pglite", isDefault: false };
}

/** Opens the store, creating the embedded store's directory when needed; failures become one-line errors. */
export async function openStoreAt(location: StoreLocation): Promise<EventStore> {
  try {
    if (location.kind === "pglite") mkdirSync(location.spec, { recursive: true });
    return await openStore(location.spec);
  } catch (error) {
    // A driver's message may quote the connection string back.
    const reason = maskConnectionString(error instanceof Error ? error.message : String(error));
    throw new CliError("STORE_UNAVAILABLE", `cannot open the store at ${location.label}: ${reason}`, {
      hint:
        location.kind === "postgres"
          ? "check the connection string, that the server is up, and that the user may create the cloudsession schema."
          : "pass --store <directory> for another directory, or --store memory: for a throwaway one. Only one process can use an embedded store at a time.",
      cause: error,
    });
  }
}
