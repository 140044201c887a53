// `npm start`: the CLI's demo (three sessions on the bundled simulator, in the embedded store),
// run from the sources. The next steps it prints use the root `cloudsession` script.
import { main } from "../packages/cli/src/index.js";

process.exitCode = await main(["start", "--command-prefix", "pnpm cloudsession", ...process.argv.slice(2)]);
setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref();
