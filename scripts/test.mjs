#!/usr/bin/env node
// `npm test`: the whole suite from a fresh clone. Installs dependencies, builds (the
// build is the type check), gets the system tools the integration tests need,
// lints, then runs every vitest project (unit and integration).
import { execFileSync, spawnSync } from 'node:child_process';
import { installAndBuild, pnpm, root } from './pnpm.mjs';

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

let aptUpdated = false;
function aptInstall(packages) {
  if (!aptUpdated) {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    aptUpdated = true;
  }
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/** Debian packages the integration tests use: [command or file to probe, package, required]. */
const SYSTEM_TOOLS = [
  ['redis-server', 'redis-server', true],
  ['/usr/bin/python3 -c "import websockets"', 'python3-websockets', false],
  ['/usr/bin/chromium', 'chromium', false],
];

function probe(check) {
  return check.includes(' ') || check.startsWith('/')
    ? spawnSync('sh', ['-c', check.startsWith('/') && !check.includes(' ') ? `test -x ${check}` : check], { stdio: 'ignore' }).status === 0
    : has(check);
}

const missing = SYSTEM_TOOLS.filter(([check]) => !probe(check));
if (missing.length > 0) {
  if (isRoot() && has('apt-get')) {
    console.log(`herald test: installing ${missing.map(([, pkg]) => pkg).join(', ')} with apt-get`);
    aptInstall(missing.map(([, pkg]) => pkg));
  } else {
    const required = missing.filter(([, , needed]) => needed).map(([, pkg]) => pkg);
    if (required.length > 0) {
      console.error(`herald test: the integration tests need ${required.join(', ')} (Debian: sudo apt-get install -y ${required.join(' ')}); install it and run npm test again.`);
      process.exit(1);
    }
    console.warn(`herald test: optional ${missing.map(([, pkg]) => pkg).join(', ')} missing; the tests that need them print why they skip.`);
  }
}

installAndBuild();
pnpm(['run', 'typecheck']);
pnpm(['run', 'lint']);
const result = spawnSync(process.execPath, [`${root}/node_modules/vitest/vitest.mjs`, 'run', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
