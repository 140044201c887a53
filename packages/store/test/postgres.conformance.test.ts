import { openPostgresStore } from "@cloudsession/store";
import { describeEventStoreConformance, sqlStreamDamager } from "@cloudsession/store/testing";
import pg from "pg";
import { afterAll, describe } from "vitest";
import { findPostgres, randomSchema } from "./support/postgres.js";

const url = await findPostgres("postgres.conformance.test.ts");
const pool = url === undefined ? undefined : new pg.Pool({ connectionString: url, max: 8 });
const prefix = randomSchema("cs_conf");
const schemas: string[] = [];

afterAll(async () => {
  if (pool === undefined) return;
  for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
});

if (pool === undefined) {
  describe.skip("EventStore conformance: PostgreSQL (no server)", () => undefined);
} else {
  describeEventStoreConformance("PostgreSQL", async () => {
    const schema = `${prefix}_${schemas.length}`;
    schemas.push(schema);
    const store = await openPostgresStore({ pool, schema });
    return {
      store,
      cleanup: async () => {
        await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
      },
      corruptEvent: async (streamId, version) => {
        await pool.query(`UPDATE "${schema}".events SET data = '{not json' WHERE stream_id = $1 AND version = $2`, [streamId, version]);
      },
      damage: sqlStreamDamager(pool, schema),
    };
  });
}
