import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { frontendDir } from './harness';

/** Every file under dir, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

// The production build (what `make build` serves and the image ships) hands
// the browser no source maps: no .map files, and no file pointing at one.
describe('production build', () => {
  const dist = join(frontendDir, 'dist');

  it('ships no source maps', () => {
    const all = files(dist);
    expect(all.some((f) => f.endsWith('index.html'))).toBe(true);
    expect(all.filter((f) => f.endsWith('.map')).map((f) => relative(dist, f))).toEqual([]);
    const pointing = all
      .filter((f) => /\.(js|mjs|css|html)$/.test(f))
      .filter((f) => /[#@]\s*sourceMappingURL=/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(dist, f));
    expect(pointing).toEqual([]);
  });
});
