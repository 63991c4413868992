#!/usr/bin/env node
// `npm start` / `npm run herald -- <command>`: install and build when not current (their
// output on stderr), then run the herald CLI.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { installAndBuild, root } from './pnpm.mjs';

installAndBuild({ whenStale: true, toStderr: true });
const child = spawn(process.execPath, [join(root, 'services/herald/dist/main.js'), ...process.argv.slice(2)], {
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
