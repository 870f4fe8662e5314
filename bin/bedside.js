#!/usr/bin/env node
// The `bedside` command. The CLI is TypeScript run through tsx, so there is nothing to compile.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
