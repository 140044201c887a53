/** What settling needs from a connection: PGlite, a node-postgres client and a pool all fit. */
export interface SqlConnection {
  query(text: string): Promise<unknown>;
}

/**
 * Vacuums and analyzes `tables` (qualified names, quoted as needed) and checkpoints, so a timed run
 * starts on a quiet database: the autovacuum, statistics and checkpoint work that earlier writes set
 * off must not land on it.
 */
export async function settleDatabase(sql: SqlConnection, tables: readonly string[]): Promise<void> {
  await sql.query(`VACUUM ANALYZE ${tables.join(", ")}`);
  await sql.query("CHECKPOINT");
}
