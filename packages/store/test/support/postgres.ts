import pg from "pg";

/** Candidate servers for the PostgreSQL tests: an explicit URL first, then the local defaults. */
const candidates = [process.env.CLOUDSESSION_TEST_POSTGRES_URL, "postgres://root@127.0.0.1:5432/test", "postgres://postgres@127.0.0.1:5432/test"].filter(
  (url): url is string => url !== undefined && url !== "",
);

/**
 * The first reachable PostgreSQL URL, or undefined after warning LOUDLY: a silently skipped
 * durability suite is worse than a failing one.
 */
export async function findPostgres(file: string): Promise<string | undefined> {
  for (const connectionString of candidates) {
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query("select 1");
      return connectionString;
    } catch {
      // try the next candidate
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  console.warn(
    `\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n` +
      `!!! ${file}: NO PostgreSQL reachable (tried ${candidates.join(", ")}).\n` +
      `!!! SKIPPING the PostgreSQL tests. Set CLOUDSESSION_TEST_POSTGRES_URL to run them.\n` +
      `!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n`,
  );
  return undefined;
}

/** A schema name unique to this run, so parallel test files never see each other's tables. */
export function randomSchema(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
