#!/usr/bin/env node
import { main } from "./program.js";

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Let output drain, then leave even if a library kept a handle open (a socket being closed).
setTimeout(() => process.exit(code), 2_000).unref();
