import { createInMemoryStore } from "@cloudsession/store";
import { describeEventStoreConformance } from "@cloudsession/store/testing";

describeEventStoreConformance("in-memory", () => Promise.resolve({ store: createInMemoryStore(), cleanup: () => Promise.resolve() }), { propertyRuns: 50 });
