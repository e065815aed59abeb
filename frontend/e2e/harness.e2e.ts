import { describe, expect, it } from 'vitest';
import { browserSkipReason } from './harness';

const there = () => true;
const missing = () => false;

describe('browserSkipReason', () => {
  it('runs the browser tests when Chromium is there, in CI or not', () => {
    expect(browserSkipReason({ CI: 'true' }, there)).toBeNull();
    expect(browserSkipReason({}, there)).toBeNull();
  });

  it.each([['true'], ['1'], ['yes']])('fails, not skips, when CI=%s and Chromium is missing', (ci) => {
    expect(() => browserSkipReason({ CI: ci, CHROMIUM_PATH: '/nowhere/chromium' }, missing)).toThrow(
      /Chromium is missing at \/nowhere\/chromium.*CI requires the browser tests/,
    );
  });

  it.each([[undefined], [''], ['0'], ['false']])('skips with a reason outside CI (CI=%s)', (ci) => {
    const reason = browserSkipReason({ CI: ci }, missing);
    expect(reason).toMatch(/Chromium is missing at \/usr\/bin\/chromium .*skipping the browser tests/);
  });

  it('looks where CHROMIUM_PATH says', () => {
    const seen: string[] = [];
    browserSkipReason({ CHROMIUM_PATH: '/opt/chromium' }, (p) => (seen.push(p), true));
    expect(seen).toEqual(['/opt/chromium']);
  });
});
