import { PGlite } from "@electric-sql/pglite";
import { openPgliteStore } from "@cloudsession/store";
import { describeEventStoreConformance, sqlStreamDamager } from "@cloudsession/store/testing";
import { afterAll, beforeAll } from "vitest";

// PGlite boots in ~4 s: one instance for the file, one fresh schema per test.
let db: PGlite;
let counter = 0;
beforeAll(async () => {
  db = await PGlite.create("memory://");
});
afterAll(async () => {
  await db.close();
});

describeEventStoreConformance("PGlite", async () => {
  const schema = `t${++counter}`;
  const store = await openPgliteStore({ pglite: db, schema });
  return {
    store,
    cleanup: async () => {
      await db.exec(`DROP SCHEMA "${schema}" CASCADE`);
    },
    corruptEvent: async (streamId, version) => {
      await db.query(`UPDATE "${schema}".events SET data = '{not json' WHERE stream_id = $1 AND version = $2`, [streamId, version]);
    },
    damage: sqlStreamDamager(db, schema),
  };
});
