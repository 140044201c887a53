// `npm start`: the CLI's demo (three sessions on the bundled simulator, in the embedded store),
// run from the sources. Its closing lines spell the CLI the way that works from a clone for
// every user: `./cloudsession`.
import { main } from "../packages/cli/src/index.js";

process.exitCode = await main(["start", ...process.argv.slice(2)], {
  stdout: process.stdout,
  stderr: process.stderr,
  env: { ...process.env, CLOUDSESSION_COMMAND: process.env["CLOUDSESSION_COMMAND"] ?? "./cloudsession" },
});
setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref();
