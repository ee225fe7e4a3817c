#!/usr/bin/env node
import { cliMain } from '../dist/src/cli/main.js';
process.exitCode = await cliMain(process.argv.slice(2));
