import pg from "pg";

/** The PostgreSQL the tests use: this machine's, unless `CLOUDSESSION_TEST_POSTGRES_URL` says otherwise. */
export const testPostgresUrl = process.env.CLOUDSESSION_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Whether a PostgreSQL answers at `connectionString` (within 2 s): tests that need one skip, and say so, when not. */
export async function canConnect(connectionString: string): Promise<boolean> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
