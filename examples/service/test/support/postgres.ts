import pg from "pg";

/** The PostgreSQL the tests share with other engineers: each test file works in its own schema. */
export const postgresUrl = process.env.CLOUDSESSION_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A schema name no other run uses: `prefix`, the time, and a random suffix. */
export function uniqueSchema(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Whether the server answers (tests that need it are skipped, with a warning, when it does not). */
export async function postgresReachable(): Promise<boolean> {
  const probe = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 2_000 });
  const reachable = await probe.connect().then(
    () => true,
    () => false,
  );
  await probe.end().catch(() => undefined);
  return reachable;
}

/** Runs SQL as the administrator, on a connection of its own. */
export async function adminQuery(sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  try {
    return await admin.query(sql, values);
  } finally {
    await admin.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
