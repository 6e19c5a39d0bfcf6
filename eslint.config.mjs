// ESLint flat config (ESLint 9). Two jobs:
//   1. typescript-eslint's recommended rules for all TypeScript in the repository;
//   2. the one-way import rule between the repository's rooms (issue 9, issue 18):
//
//        functions/  Lambda entry points + wiring   -> lib/, functions/, packages
//        lib/        what the Lambda bundles hold   -> lib/, packages
//        local/      local-only tooling             -> lib/, local/, ops/, packages
//        ops/        operator tooling               -> lib/, ops/, packages
//        scripts/    npm entry points               -> lib/, local/, ops/, scripts/, packages
//        bench/      benchmark                      -> lib/, local/, ops/, bench/, packages
//        test/       tests                          -> anything
//
//      Each room lists what it MAY import (an allow-list): an import of any other file in the repository
//      (another room, events/, package.json, a new top-level folder, ...) is an error. Only test/ imports
//      test/. import-x/no-cycle forbids import cycles at all, inside a room as well as between rooms.
//
//      Inside local/, three rooms, each importing only those before it:
//        the laptop pipeline and the stand-ins   local/*.ts, local/standins/, local/types/
//        the rigs                                local/rigs/ (handlers on dynalite/fauxqs for tests, bench, chaos)
//        the chaos and fuzz runners              local/chaos/
//      The rigs live in local/ rather than test/support/ because the bench and the chaos/fuzz scripts use them too,
//      and those may not import test/. Helpers only tests use go to test/support/.
//
// import-x/no-restricted-paths only sees imports it can resolve, so import-x/no-unresolved is on too: an
// import the resolver cannot follow is an error instead of a silent hole in the boundary.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const root = path.dirname(fileURLToPath(import.meta.url));

const TS_FILES = [
  'functions/**/*.ts',
  'lib/**/*.ts',
  'local/**/*.ts',
  'ops/**/*.ts',
  'scripts/**/*.ts',
  'bench/**/*.ts',
  'test/**/*.ts',
  '*.ts',
];

/** What each room may import, besides packages (node_modules) and Node built-ins. */
const ALLOWED = {
  functions: ['functions', 'lib'],
  lib: ['lib'],
  local: ['lib', 'local', 'ops'],
  ops: ['lib', 'ops'],
  scripts: ['lib', 'local', 'ops', 'scripts'],
  bench: ['lib', 'local', 'ops', 'bench'],
};

const ROOM_RULES = {
  functions: 'functions/ (Lambda entry points) may import only lib/ and packages.',
  lib: 'lib/ is what the Lambda bundles contain: it may import only lib/ and packages.',
  local: 'local/ may import only lib/, local/, ops/ and packages (build handlers from lib/, not functions/).',
  ops: 'ops/ may import only lib/, ops/ and packages.',
  scripts: 'scripts/ may import only lib/, local/, ops/, scripts/ and packages (never test/).',
  bench: 'bench/ may import only lib/, local/, ops/, bench/ and packages (never test/).',
};

/** The rooms inside local/ (see the top of this file). */
const LOCAL_PIPELINE = ['./local/*.ts', './local/standins', './local/types'];
const LOCAL_ZONES = [
  {
    target: LOCAL_PIPELINE,
    from: ['./local/rigs', './local/chaos'],
    message:
      'The laptop pipeline and the stand-ins import neither the rigs (local/rigs/) nor the chaos runners (local/chaos/).',
  },
  {
    target: './local/rigs',
    from: './local/chaos',
    message:
      'The rigs (local/rigs/) do not import the chaos and fuzz runners (local/chaos/): the runners build on the rigs.',
  },
];

const zones = [
  ...Object.entries(ALLOWED).map(([room, allowed]) => ({
    target: `./${room}`,
    from: './',
    except: [...allowed.map((r) => `./${r}`), './node_modules'],
    message: ROOM_RULES[room],
  })),
  ...LOCAL_ZONES,
  // Top-level files (jest.config.ts, ...): nothing but test/ imports test/.
  { target: './*.ts', from: './test', message: 'Nothing but test/ imports test/.' },
];

export default defineConfig(
  {
    ignores: ['node_modules/', '.serverless/', '.esbuild/', '.build/', 'coverage/', '.local/'],
  },
  {
    files: ['**/*.mjs'],
    ...js.configs.recommended,
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { console: 'readonly', process: 'readonly' } },
  },
  {
    files: TS_FILES,
    extends: [js.configs.recommended, tseslint.configs.recommended],
    plugins: { 'import-x': importX },
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
    },
    settings: {
      'import-x/extensions': ['.ts', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
      'import-x/resolver-next': [
        createTypeScriptImportResolver({ alwaysTryTypes: true, project: path.join(root, 'tsconfig.json') }),
      ],
    },
    rules: {
      // Boundaries between rooms.
      'import-x/no-restricted-paths': ['error', { basePath: root, zones }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-unresolved': 'error',
      'import-x/no-self-import': 'error',

      // TypeScript (tsc --noEmit, strict) already checks these; ESLint's versions misfire on TS code.
      'no-undef': 'off',
      'no-redeclare': 'off',
      'no-dupe-class-members': 'off',

      // Pragmatic: `_`-prefixed names are deliberately unused.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Tests may import anything, and use the loose typing test doubles need.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
