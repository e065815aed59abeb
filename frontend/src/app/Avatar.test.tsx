/// <reference types="node" />
// Reads the tokens file from disk (the test runs in Node).
import { readFileSync } from 'node:fs';
import { render } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import { Avatar, AVATAR_COLOURS, colourIndex } from './Avatar';

describe('Avatar', () => {
  it('has as many colours as the palette token', () => {
    const tokens = readFileSync('src/styles/abstracts/_tokens.scss', 'utf8');
    const palette = /^\$avatar-palette:(.*);$/m.exec(tokens)?.[1] ?? '';
    expect(palette.split(',').filter((c) => c.trim() !== '')).toHaveLength(AVATAR_COLOURS);
  });

  it('gives a seed always the same colour class, and shows initials', () => {
    expect(colourIndex('alice')).toBe(colourIndex('alice'));
    const seen = new Set(['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'g1', 'g2', 'g3'].map(colourIndex));
    expect(Math.max(...seen)).toBeLessThan(AVATAR_COLOURS);
    const { container } = render(<Avatar name="Ada Lovelace" seed="ada" />);
    expect(container.textContent).toBe('AL');
    expect(container.firstElementChild?.classList.contains(`c${colourIndex('ada')}`)).toBe(true);
  });
});
