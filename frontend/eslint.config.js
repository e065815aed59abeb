import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const userContent = [
  {
    selector: "JSXAttribute[name.name='dangerouslySetInnerHTML']",
    message: 'Render user content as text only.',
  },
  {
    selector: "AssignmentExpression[left.property.name='innerHTML']",
    message: 'Never assign innerHTML.',
  },
];

// Colours live in styles/abstracts/_tokens.scss (stylelint guards the Sass side).
const colourLiteral = 'Colours come from styles/abstracts/_tokens.scss: use a class or a CSS variable set from a token.';
const hex = '/(^|[\\s(,:])#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})(?![\\w-])/';
const fn = '/\\b(rgba?|hsla?|hwb|lab|lch|oklab|oklch)\\(/';
const colours = [
  { selector: `Literal[value=${hex}]`, message: colourLiteral },
  { selector: `Literal[value=${fn}]`, message: colourLiteral },
  { selector: `TemplateElement[value.raw=${hex}]`, message: colourLiteral },
  { selector: `TemplateElement[value.raw=${fn}]`, message: colourLiteral },
];

export default tseslint.config(
  // schema.d.ts is generated (npm run api-types) and checked against the OpenAPI document instead.
  { ignores: ['dist', 'node_modules', 'test-output', 'src/api/schema.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.browser, ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', ...userContent],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-syntax': ['error', ...userContent, ...colours],
    },
  },
);
