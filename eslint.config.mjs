// ESLint: typescript-eslint's type-aware rules over the TypeScript (promises left floating or
// passed where a callback returns nothing, awaits of non-promises, unused values, loose equality),
// and the recommended rules over the few plain JavaScript files. Run: npm run lint.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const node = {
  require: 'readonly', module: 'writable', exports: 'writable', process: 'readonly', console: 'readonly',
  __dirname: 'readonly', __filename: 'readonly', Buffer: 'readonly',
};

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'build-asan/**', 'build-fuzz/**', 'bench/cache/**', 'fuzz/**'] },
  {
    files: ['**/*.js', 'bin/flowseek'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'commonjs', globals: node },
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        // examples/ is outside tsconfig.json (nothing builds it): linted with the default options
        projectService: { allowDefaultProject: ['examples/*.ts', 'examples/*/*.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // tap queues a subtest that is not awaited and runs it in order: that promise is safe to drop
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafePromises: [{ from: 'package', name: 'PromiseWithSubtest', package: '@tapjs/core' }],
      }],
      // `_` names a value kept out on purpose (a skipped tuple slot, a field left out of a rest)
      '@typescript-eslint/no-unused-vars': ['error', {
        argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_',
        destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true,
      }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // a promise returned from inside try without await escapes its catch and finally
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      'no-template-curly-in-string': 'error',
      'no-unreachable-loop': 'error',
      // list columns go into messages as "1,2,3" on purpose
      '@typescript-eslint/restrict-template-expressions': ['error', { allowArray: true, allowNumber: true, allowBoolean: true, allowNullish: true }],
      // async callbacks without an await are how tap subtests and promise-returning interfaces are
      // written; a promise that is missing its await is no-floating-promises' job
      '@typescript-eslint/require-await': 'off',
      // require() is deliberate where it is used: optional modules loaded lazily (onnxruntime-node,
      // typescript for .ts plugins), package.json, plugin files by path
      '@typescript-eslint/no-require-imports': 'off',
      // plugin hooks are taken off their definition on purpose, tested for presence or called
      // with .call(ctx)
      '@typescript-eslint/unbound-method': 'off',
      // node-free.ts merges into Node's Buffer interface: an empty body is the point
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
    },
  },
  {
    // tests, benchmarks, samples and scripts read JSON, CSV and query rows as `any` and assert on
    // their fields: a wrong field fails the assertion, a type for every row would only repeat it
    files: ['test/**/*.ts', 'bench/**/*.ts', 'samples/**/*.ts', 'scripts/**/*.ts', 'examples/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // query cells (unknown) go into assertion messages as they print
      '@typescript-eslint/restrict-template-expressions': 'off',
      // two spaces in a pattern are the indentation of the output being matched
      'no-regex-spaces': 'off',
    },
  },
);
