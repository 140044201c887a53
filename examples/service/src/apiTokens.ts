import { createHash, timingSafeEqual } from "node:crypto";
import { isLoopbackHost } from "./loopback.js";
import { ServiceError } from "./serviceError.js";

/** Shorter tokens are refused at start: a bearer token is a password nobody has to type. */
export const MIN_TOKEN_LENGTH = 16;

/** Tells whether a presented token is one of the configured ones. */
export type TokenCheck = (presented: string | undefined) => boolean;

/** Compares two equal-length buffers; `crypto.timingSafeEqual` unless a test watches the calls. */
export type ConstantTimeCompare = (a: Buffer, b: Buffer) => boolean;

const digest = (token: string): Buffer => createHash("sha256").update(token, "utf8").digest();

/**
 * A check of bearer tokens (several, so one can be rotated while the other still works) that takes
 * the same time whatever is presented: both sides are SHA-256 digests of the same length, compared
 * with `timingSafeEqual`, against every configured token, with no early exit. How long a refusal
 * takes says nothing about how much of a token was right, nor about its length.
 *
 * @example
 * const check = createTokenCheck([process.env.API_TOKEN ?? ""]);
 * check(bearerToken(request.headers.authorization)); // true or false
 * @throws ServiceError `INVALID_CONFIG` for no token, or one shorter than {@link MIN_TOKEN_LENGTH} or with spaces.
 */
export function createTokenCheck(tokens: readonly string[], compare: ConstantTimeCompare = timingSafeEqual): TokenCheck {
  if (tokens.length === 0) throw new ServiceError("INVALID_CONFIG", "no API token given");
  for (const [index, token] of tokens.entries()) {
    if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) throw new ServiceError("INVALID_CONFIG", `API token ${index + 1} must be at least ${MIN_TOKEN_LENGTH} characters, without spaces`);
  }
  const expected = tokens.map(digest);
  return (presented) => {
    const given = digest(presented ?? "");
    let matched = false;
    for (const candidate of expected) matched = compare(given, candidate) || matched; // compare first: no short circuit
    return matched && presented !== undefined;
  };
}

/** The token of an `Authorization: Bearer <token>` header (the scheme is case-insensitive), if there is one. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^bearer +(\S+) *$/i.exec(authorization ?? "");
  return match?.[1];
}

/**
 * The token check a service bound to `host` uses: tokens are optional on loopback and required
 * anywhere else, where the service refuses to start without one.
 *
 * @throws ServiceError `AUTH_REQUIRED` beyond loopback without tokens; `INVALID_CONFIG` for a bad token.
 */
export function tokenCheckFor(host: string, tokens: readonly string[] | undefined): TokenCheck | undefined {
  if (tokens !== undefined && tokens.length > 0) return createTokenCheck(tokens);
  if (isLoopbackHost(host)) return undefined;
  throw new ServiceError(
    "AUTH_REQUIRED",
    `binding ${host} puts the API on the network, and it has no API token: set CLOUDSESSION_API_TOKENS or CLOUDSESSION_API_TOKENS_FILE (the tokens option), or bind 127.0.0.1`,
  );
}
