// The REST wire types come from the OpenAPI document that the server serves
// (backend/httpapi/openapi.json, checked against the server by the Go tests),
// so the SPA cannot drift from it unnoticed.
//
//   node scripts/api-types.mjs          regenerate src/api/schema.d.ts
//   node scripts/api-types.mjs --check  regenerate into a temporary file and fail if it differs
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

const frontend = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const spec = resolve(frontend, '../backend/httpapi/openapi.json');
const target = resolve(frontend, 'src/api/schema.d.ts');
const check = process.argv.includes('--check');

const ast = await openapiTS(pathToFileURL(spec));
const fresh = COMMENT_HEADER + astToString(ast);

if (!check) {
  writeFileSync(target, fresh);
  console.log(`${relative(frontend, target)} regenerated from ${relative(frontend, spec)}`);
  process.exit(0);
}

let current = '';
try {
  current = readFileSync(target, 'utf8');
} catch {
  // Missing counts as different.
}
if (current === fresh) process.exit(0);
const tmp = join(mkdtempSync(join(tmpdir(), 'api-types-')), 'schema.d.ts');
writeFileSync(tmp, fresh);
console.error(
  `${relative(frontend, target)} does not match ${relative(frontend, spec)}.\n` +
    `  diff -u ${target} ${tmp}\n` +
    `Run "npm run api-types" and commit the result (then fix what no longer type-checks).`,
);
process.exit(1);
