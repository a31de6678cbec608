import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import tseslint from 'typescript-eslint'

const noAdHocError = {
  selector: "NewExpression[callee.name='AppError']",
  message: 'Define the error once with defineError in the feature that owns the rule, and throw its factory.',
}
const paymentStatusMessage =
  "An order's payment status changes only through setPaymentStatus (src/orders/index.ts), which writes its audit row."
const paymentStatusWrites = [
  ...['key.name', 'key.value'].map((key) => ({
    selector: `CallExpression[callee.property.name=/^(update|insert|merge|upsert)$/] > ObjectExpression > Property[${key}='payment_status']`,
    message: paymentStatusMessage,
  })),
  ...['Literal[value', 'TemplateElement[value.raw'].map((node) => ({
    // `update orders ... set ... payment_status =` before any `where`.
    selector: `${node}=/update\\s+orders\\b[\\s\\S]*?\\bset\\b(?:(?!\\bwhere\\b)[\\s\\S])*\\bpayment_status\\s*=/i]`,
    message: paymentStatusMessage,
  })),
]

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'data/',
      '.tap/',
      'coverage/',
      '.scratch*',
      'tests/artifacts/',
      'clients/typescript/src/schema.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // A promise nobody awaits loses its error and its ordering: await it, return it, or mark it `void`.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, properties: false } },
      ],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // Feature boundaries: another folder of src/ is reached only through its index.ts.
    files: ['src/**/*.ts', 'realtime/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // A folder's schemas file (`chat.schemas.ts`, `shared/schemas.ts`) is public too: pure TypeBox,
              // which realtime/protocol.ts (and a client reusing it) imports without the server.
              regex: '^\\.\\./(src/[^/.]+|(?!src/)[^/.]+)/(?!index\\.js$|(?:[\\w-]+\\.)?schemas\\.js$)',
              message:
                "Import another folder through its index.ts (its public surface), e.g. '../listings/index.js', or its pure schemas file.",
            },
            {
              regex: '(^|/)seeds/',
              message: 'Only the composition root (src/app.ts, src/cli/) wires seeders.',
            },
          ],
        },
      ],
    },
  },
  {
    // One error catalogue: codes come from defineError (src/shared/errors.ts), never made ad hoc.
    // One way to change an order's payment status: setPaymentStatus, which audits it.
    files: ['src/**/*.ts', 'realtime/**/*.ts'],
    ignores: ['src/shared/errors.ts'],
    rules: { 'no-restricted-syntax': ['error', noAdHocError, ...paymentStatusWrites] },
  },
  {
    // Where the payment status is written, audited: the one place allowed to.
    files: ['src/orders/order-lifecycle.ts'],
    rules: { 'no-restricted-syntax': ['error', noAdHocError] },
  },
  {
    files: ['src/app.ts', 'src/cli/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The admin console's ES modules run in the browser.
    files: ['admin/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'fetch',
          'crypto',
          'console',
          'setTimeout',
          'clearTimeout',
          'addEventListener',
          'removeEventListener',
          'URLSearchParams',
          'FormData',
          'Intl',
          'ResizeObserver',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    files: ['src/cli/**', 'tests/bench/**', '.ci/**'],
    rules: { 'no-console': 'off' },
  },
  prettier,
)
