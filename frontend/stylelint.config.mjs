// Style rules that the team guide states and code review kept missing:
// colours come from the tokens only, and Sass modules load with @use.
const colourFunctions = ['rgb', 'rgba', 'hsl', 'hsla', 'hwb', 'lab', 'lch', 'oklab', 'oklch', 'color', 'color-mix'];

/** @type {import('stylelint').Config} */
export default {
  customSyntax: 'postcss-scss',
  rules: {
    'color-no-hex': [true, { message: 'Colours come from styles/abstracts/_tokens.scss: add or use a token there.' }],
    'color-named': ['never', { message: 'Colours come from styles/abstracts/_tokens.scss: add or use a token there.' }],
    'function-disallowed-list': [colourFunctions, { message: 'Colours come from styles/abstracts/_tokens.scss: add or use a token there.' }],
    'at-rule-disallowed-list': [['import'], { message: 'Load Sass with @use (or @forward), never @import.' }],
  },
  overrides: [
    {
      files: ['src/styles/abstracts/_tokens.scss'],
      rules: { 'color-no-hex': null, 'color-named': null, 'function-disallowed-list': null },
    },
  ],
};
