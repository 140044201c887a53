export {
  appendConformance,
  closeConformance,
  concurrencyConformance,
  coordinationConformance,
  corruptionConformance,
  describeEventStoreConformance,
  expectedVersionConformance,
  listStreamsConformance,
  propertyConformance,
  readAllConformance,
  readStreamsConformance,
  subscribeConformance,
} from "./eventStoreConformance.js";
export type { ConformanceOptions, EventStoreFactory, EventStoreFixture } from "./storeFixture.js";
export { damageConformance } from "./damageConformance.js";
export { damagePropertyConformance } from "./damagePropertyConformance.js";
export { damageOfKind, describeDamage, streamDamageKinds, type DamageChoices, type StoredEventRow, type StreamDamage, type StreamDamageKind, type StreamDamager } from "./streamDamage.js";
export {
  corruptEvent,
  damageSqlStream,
  deleteEvents,
  deleteStreamRow,
  duplicateEvent,
  moveStreamRow,
  sqlStreamDamager,
  storedEventRows,
  swapEvents,
  truncateTail,
  type SqlDamageTarget,
  type StoredStream,
} from "./sqlDamage.js";
