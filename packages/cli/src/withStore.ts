import type { EventStore } from "@cloudsession/store";
import type { CommandContext } from "./commandContext.js";
import { openStoreAt, resolveStoreLocation, type StoreLocation } from "./storeLocation.js";

/** Opens the command's store for `body` and closes it afterwards: for the read-only commands. */
export async function withStore<T>(ctx: CommandContext, body: (store: EventStore, location: StoreLocation) => Promise<T>): Promise<T> {
  const location = resolveStoreLocation(ctx.store, ctx.env);
  const store = await openStoreAt(location);
  try {
    return await body(store, location);
  } finally {
    await store.close();
  }
}
