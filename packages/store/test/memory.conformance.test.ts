import { createInMemoryStore } from "@cloudsession/store";
import { describeEventStoreConformance } from "@cloudsession/store/testing";
import { inMemoryStreamDamager } from "./support/inMemoryDamage.js";

describeEventStoreConformance(
  "in-memory",
  () => {
    const store = createInMemoryStore();
    return Promise.resolve({ store, cleanup: () => Promise.resolve(), damage: inMemoryStreamDamager(store) });
  },
  { propertyRuns: 50 },
);
