/** The GitHub repository a cloud session works in. `branch` is optional: the runtime picks the default. */
export interface Repository {
  readonly owner: string;
  readonly name: string;
  readonly branch?: string;
}

/** Why a repository was refused; stable codes for callers and the CLI. */
export type RepositoryProblem =
  | "owner-invalid"
  | "name-invalid"
  | "branch-invalid"
  | "format-invalid";

export type RepositoryCheck =
  | { readonly ok: true; readonly repository: Repository }
  | { readonly ok: false; readonly problem: RepositoryProblem; readonly message: string };

// GitHub logins: 1–39 alphanumerics or single hyphens, not starting or ending with a hyphen.
const ownerPattern = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
// Repository names: 1–100 of [A-Za-z0-9._-], and never "." or "..".
const namePattern = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * Checks a repository against GitHub's naming rules (owner login, repository name, git ref name).
 *
 * @example
 * checkRepository({ owner: "github", name: "copilot-sdk" }).ok // true
 */
export function checkRepository(repository: Repository): RepositoryCheck {
  if (!ownerPattern.test(repository.owner)) {
    return fail("owner-invalid", `repository owner "${repository.owner}" is not a valid GitHub login (1–39 letters, digits or single hyphens, not at either end)`);
  }
  if (!namePattern.test(repository.name) || repository.name === "." || repository.name === "..") {
    return fail("name-invalid", `repository name "${repository.name}" is not valid (1–100 letters, digits, '.', '-' or '_')`);
  }
  if (repository.branch !== undefined && !isValidBranchName(repository.branch)) {
    return fail("branch-invalid", `branch "${repository.branch}" is not a valid git branch name`);
  }
  const { owner, name, branch } = repository;
  return { ok: true, repository: branch === undefined ? { owner, name } : { owner, name, branch } };
}

/**
 * Parses `owner/name` or `owner/name@branch` (the CLI's `--repo` form) and checks it.
 *
 * @example
 * parseRepository("github/copilot-sdk@main") // { ok: true, repository: { owner: "github", name: "copilot-sdk", branch: "main" } }
 */
export function parseRepository(text: string): RepositoryCheck {
  const at = text.indexOf("@");
  const path = at === -1 ? text : text.slice(0, at);
  const branch = at === -1 ? undefined : text.slice(at + 1);
  const parts = path.split("/");
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    return fail("format-invalid", `"${text}" is not of the form owner/name or owner/name@branch`);
  }
  return checkRepository(branch === undefined ? { owner: parts[0], name: parts[1] } : { owner: parts[0], name: parts[1], branch });
}

/** `owner/name` or `owner/name@branch`. */
export function formatRepository(repository: Repository): string {
  const base = `${repository.owner}/${repository.name}`;
  return repository.branch === undefined ? base : `${base}@${repository.branch}`;
}

// git check-ref-format rules, as they apply to a branch name.
function isValidBranchName(branch: string): boolean {
  if (branch.length === 0 || branch.length > 255) return false;
  if (branch === "@" || branch.startsWith("-") || branch.startsWith("/") || branch.endsWith("/")) return false;
  if (branch.endsWith(".") || branch.endsWith(".lock") || branch.includes("..") || branch.includes("//") || branch.includes("@{")) return false;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what git forbids
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(branch)) return false;
  return branch.split("/").every((part) => !part.startsWith("."));
}

function fail(problem: RepositoryProblem, message: string): RepositoryCheck {
  return { ok: false, problem, message };
}
