/** What a masked secret is replaced with. */
export const MASK = "***";

// `scheme://user:password@host…`: the user info is taken up to the last `@` before whitespace, so a
// password with an unencoded `@`, `/` or `?` is masked whole (masking part of a host too is the safe
// mistake).
const userInfo = /\b([a-z][a-z0-9+.-]*:\/\/)(\S*)@/gi;
// `password=…` as a URL query parameter (`?`, `&`, `;`) or a libpq keyword (`host=h password=…`),
// quoted or not. Any key naming a secret: password, passwd, pwd, sslpassword, token, secret, api_key…
// An unquoted value runs to the next delimiter or whitespace, punctuation included: a password
// ending in `.` or `)` must not show its last character, so `…=pw: refused` loses its colon too.
const secretParameter = /(^|[?&;\s])([a-z0-9_.-]*(?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|credentials?)[a-z0-9_.-]*=)('[^']*'|"[^"]*"|[^\s&;#]*)/gi;

/**
 * Masks every secret a connection string can carry, wherever it sits: the password of the user
 * info (`postgres://user:***@host/db`) and the value of any parameter that names a secret
 * (`?password=***`, `sslpassword=***`, libpq's `password=***`). Works on a connection string alone
 * or on any text that contains some, such as an error message; everything else is left as it was,
 * so the host, database and options stay readable.
 *
 * @example
 * ```ts
 * maskConnectionString("postgres://me:s3cret@db:5432/app?sslmode=require&password=s3cret");
 * // "postgres://me:***@db:5432/app?sslmode=require&password=***"
 * ```
 */
export function maskConnectionString(text: string): string {
  return text
    .replace(userInfo, (_match, scheme: string, info: string) => {
      const colon = info.indexOf(":");
      return colon === -1 ? `${scheme}${info}@` : `${scheme}${info.slice(0, colon)}:${MASK}@`;
    })
    .replace(secretParameter, (_match, before: string, key: string) => `${before}${key}${MASK}`);
}
