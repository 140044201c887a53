import { maskConnectionString } from "@cloudsession/store";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";

describe("maskConnectionString", () => {
  test.each([
    ["postgres://me:s3cret@db:5432/app", "postgres://me:***@db:5432/app"],
    ["postgres://u@h/x?password=SECRET", "postgres://u@h/x?password=***"],
    ["postgresql://u@h/x?sslmode=require&password=SECRET&application_name=web", "postgresql://u@h/x?sslmode=require&password=***&application_name=web"],
    ["postgres://u@h/x?sslpassword=SECRET;pwd=SECRET", "postgres://u@h/x?sslpassword=***;pwd=***"],
    ["host=db user=me password=SECRET dbname=app", "host=db user=me password=*** dbname=app"],
    ["host=db password='se cret' dbname=app", "host=db password=*** dbname=app"],
    ["postgres://me:p@ss/w?rd@db/app", "postgres://me:***@db/app"],
    ["cannot open the store at postgres://me:SECRET@db/app?password=SECRET: connect ECONNREFUSED 127.0.0.1:5432", "cannot open the store at postgres://me:***@db/app?password=*** connect ECONNREFUSED 127.0.0.1:5432"],
    ["postgres://db.internal:5432/app?sslmode=require", "postgres://db.internal:5432/app?sslmode=require"],
    ["./.cloudsession/events", "./.cloudsession/events"],
  ])("%s", (given, masked) => {
    expect(maskConnectionString(given)).toBe(masked);
  });

  const word = fc.stringMatching(/^[a-z][a-z0-9]{0,11}$/);
  // Anything a password can be, as a client would put it into a URL.
  const secret = fc.string({ minLength: 1, maxLength: 40, unit: "grapheme" }).map(encodeURIComponent);
  const secretKey = fc.constantFrom("password", "PASSWORD", "sslpassword", "pwd", "passwd", "api_key", "token", "client_secret");

  test.prop([word, secret, word, fc.integer({ min: 1, max: 65_535 }), word, secretKey, secret])(
    "the user info's password and every secret parameter are masked, wherever the string sits; the rest stays",
    (user, password, host, port, database, key, value) => {
      const url = `postgres://${user}:${password}@${host}:${port}/${database}?sslmode=require&${key}=${value}`;
      const expected = `postgres://${user}:***@${host}:${port}/${database}?sslmode=require&${key}=***`;
      expect(maskConnectionString(url)).toBe(expected);
      expect(maskConnectionString(`cannot open ${url} (refused)`)).toBe(`cannot open ${expected} (refused)`);
      expect(maskConnectionString(maskConnectionString(url))).toBe(expected); // idempotent
    },
  );
});
