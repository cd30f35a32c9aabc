// The JavaScript in web/README.md parses as a module and imports only modules that exist.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { ROOT } from './helpers.mjs';

test('the README’s example is valid JavaScript with real imports', () => {
  const web = path.join(ROOT, 'web');
  const readme = readFileSync(path.join(web, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length > 0);
  for (const code of blocks) {
    for (const [, spec] of code.matchAll(/from '(\.[^']+)'/g)) {
      assert.ok(existsSync(path.join(web, spec)), `${spec} exists`);
    }
    const file = path.join(web, `.readme-example-${process.pid}.mjs`);
    writeFileSync(file, code);
    try {
      execFileSync(process.execPath, ['--check', file], { stdio: 'pipe' });
    } finally {
      rmSync(file, { force: true });
    }
  }
});
