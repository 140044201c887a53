import { invalidParams } from "./rpcErrors.js";

/** JSON-RPC params narrowed to a plain object; anything else is an InvalidParams error. */
export type Params = Readonly<Record<string, unknown>>;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Reads by-name params; absent params become `{}`. */
export function readParams(raw: unknown): Params {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) throw invalidParams("params must be an object");
  return raw;
}

/** A required non-empty string field. */
export function requireString(params: Params, key: string): string {
  const value = params[key];
  if (typeof value !== "string" || value.length === 0) throw invalidParams(`${key} must be a non-empty string`);
  return value;
}

/** An optional string field (absent or null gives undefined). */
export function optionalString(params: Params, key: string): string | undefined {
  const value = params[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalidParams(`${key} must be a string`);
  return value;
}

/** An optional object field. */
export function optionalObject(params: Params, key: string): Params | undefined {
  const value = params[key];
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw invalidParams(`${key} must be an object`);
  return value;
}

/** `"owner/name"` from a `cloud` option, or undefined when it names no repository. */
export function repositoryKey(cloud: Params | undefined): string | undefined {
  const repo = cloud === undefined ? undefined : optionalObject(cloud, "repository");
  if (repo === undefined) return undefined;
  return `${requireString(repo, "owner")}/${requireString(repo, "name")}`;
}
