import { fc, test } from "@fast-check/vitest";
import { timingSafeEqual } from "node:crypto";
import { describe, expect } from "vitest";
import { bearerToken, createTokenCheck, isServiceError, tokenCheckFor } from "../src/index.js";

const tokenA = "tok_aaaaaaaaaaaaaaaaaaaaaaaa";
const tokenB = "tok_bbbbbbbbbbbbbbbbbbbbbbbb";

describe("API tokens", () => {
  test("the check compares fixed-length digests against every configured token, whatever is presented: no early exit, nothing that depends on the token's length or prefix", () => {
    const calls: [number, number][] = [];
    const check = createTokenCheck([tokenA, tokenB], (a, b) => {
      calls.push([a.length, b.length]);
      return timingSafeEqual(a, b);
    });
    const presented: [string | undefined, boolean][] = [
      [undefined, false],
      ["", false],
      [tokenA.slice(0, -1), false], // a prefix of the right token
      [`${tokenA.slice(0, -1)}X`, false], // right but for the last character
      [`X${tokenA.slice(1)}`, false], // right but for the first
      [`${tokenA}A`, false],
      ["x".repeat(10_000), false],
      [tokenA, true], // matches the first: the second is compared all the same
      [tokenB, true],
    ];
    for (const [token, expected] of presented) {
      calls.length = 0;
      expect(check(token), String(token)).toBe(expected);
      expect(calls).toEqual([
        [32, 32],
        [32, 32],
      ]);
    }
  });

  test.prop([fc.uniqueArray(fc.string({ minLength: 16, maxLength: 40 }).filter((token) => !/\s/.test(token)), { minLength: 1, maxLength: 4 }), fc.option(fc.string({ maxLength: 60 }), { nil: undefined })])(
    "a presented token passes exactly when it is one of the configured ones",
    (tokens, other) => {
      const check = createTokenCheck(tokens);
      for (const token of tokens) expect(check(token)).toBe(true);
      expect(check(other)).toBe(other !== undefined && tokens.includes(other));
    },
  );

  test("tokens are at least 16 characters, without spaces", () => {
    expect(() => createTokenCheck(["short"])).toThrow(/at least 16 characters/);
    expect(() => createTokenCheck(["with a space in the middle"])).toThrow(/without spaces/);
    expect(() => createTokenCheck([])).toThrow(/no API token/);
  });

  test("optional on loopback, required anywhere else", () => {
    expect(tokenCheckFor("127.0.0.1", undefined)).toBeUndefined();
    expect(tokenCheckFor("::1", [])).toBeUndefined();
    expect(tokenCheckFor("localhost", [tokenA])?.(tokenA)).toBe(true);
    for (const host of ["0.0.0.0", "::", "10.1.2.3", "api.example.com"]) {
      const error = (() => {
        try {
          tokenCheckFor(host, undefined);
          return undefined;
        } catch (caught) {
          return caught;
        }
      })();
      expect(isServiceError(error, "AUTH_REQUIRED"), host).toBe(true);
    }
    expect(tokenCheckFor("0.0.0.0", [tokenA])?.(tokenA)).toBe(true);
  });

  test("bearerToken reads `Authorization: Bearer <token>` only", () => {
    expect(bearerToken(`Bearer ${tokenA}`)).toBe(tokenA);
    expect(bearerToken(`bearer ${tokenA}`)).toBe(tokenA);
    expect(bearerToken(`Basic ${tokenA}`)).toBeUndefined();
    expect(bearerToken(`Bearer ${tokenA} extra`)).toBeUndefined();
    expect(bearerToken("Bearer")).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
