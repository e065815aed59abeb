import { describe, expect, it } from 'vitest';
import { parseRoute } from './router';

describe('parseRoute', () => {
  it.each([
    ['/', { name: 'home' }],
    ['/login', { name: 'login' }],
    ['/signup/', { name: 'signup' }],
    ['/g/42', { name: 'group', id: 42 }],
    ['/g/abc', { name: 'notfound' }],
    ['/elsewhere', { name: 'notfound' }],
  ])('%s', (path, want) => {
    expect(parseRoute(path)).toEqual(want);
  });
});
