export type {
  AppendOptions,
  AppendResult,
  EventHandler,
  EventStore,
  JsonObject,
  JsonPrimitive,
  JsonValue,
  ListStreamsOptions,
  NewEvent,
  ReadAllOptions,
  ReadAllResult,
  ReadStreamOptions,
  ReadStreamResult,
  ReadStreamsOptions,
  StoredEvent,
  StreamStatus,
  StreamSummary,
  SubscribeOptions,
  Subscription,
} from "./eventStore.js";
export type { AnnounceOptions, ClaimOptions, ClusterView, Command, Coordination, CoordinationChange, Lease, NewCommand } from "./coordination.js";
export { ANY, NO_STREAM, STREAM_EXISTS, isExpectedVersion, matchesExpectedVersion, type ExpectedVersion } from "./expectedVersion.js";
export { START, checkpointOf, compareCheckpoints, isCheckpoint, parseCheckpoint, type Checkpoint, type CheckpointParts } from "./checkpoint.js";
export { StoreError, isStoreError, type StoreErrorCode, type StoreErrorDetails } from "./storeError.js";
export { createInMemoryStore, type InMemoryStoreOptions } from "./inMemoryStore.js";
export { openPgliteStore, type PgliteStoreOptions } from "./pgliteStore.js";
export { openPostgresStore, type PostgresStoreOptions } from "./postgresStore.js";
export { openStore, type OpenStoreOptions } from "./openStore.js";
export { maskConnectionString } from "./maskConnectionString.js";
export { createSqlEventStore, DEFAULT_SCHEMA, type SqlEventStoreOptions } from "./sql/sqlEventStore.js";
export { migrate, migrations, type Migration } from "./sql/migrations.js";
export type { SqlExecutor, SqlQueryable, SqlRow, SqlTransactionOptions } from "./sql/sqlExecutor.js";
export { createGroupCommitter, type BatchFlush, type BatchOutcome, type GroupCommitOptions, type GroupCommitter } from "./groupCommit.js";
