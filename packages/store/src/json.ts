/** A JSON scalar. */
export type JsonPrimitive = string | number | boolean | null;
/** Any value that survives `JSON.stringify` → `JSON.parse` unchanged. */
export type JsonValue = JsonPrimitive | readonly JsonValue[] | JsonObject;
/** A JSON object with read-only members. */
export interface JsonObject {
  readonly [key: string]: JsonValue;
}
