/** The bins' argument checks: each bin's pure `check()` (src/cli/*-args.ts). */
import { describe, expect, test } from '@jest/globals';
import { check as checkSource } from '../../src/cli/source-args.js';
import { check } from '../../src/cli/tap-args.js';

describe('tap args check()', () => {
  test.each([
    [{ help: true }, { kind: 'help' }],
    [
      { about: true, format: 'markdown' as const },
      { kind: 'about', format: 'markdown' },
    ],
    [{ about: true }, { kind: 'about', format: 'text' }],
    [
      { config: 'c.json', discover: true },
      { kind: 'discover', configPath: 'c.json' },
    ],
    [
      { config: 'c.json', test: true },
      { kind: 'test', configPath: 'c.json' },
    ],
    // Meltano runs `--discover` with `--state`: accepted, and the state is not read.
    [
      { config: 'c.json', discover: true, state: 's.json' },
      { kind: 'discover', configPath: 'c.json' },
    ],
    [
      { config: 'c.json', catalog: 'k.json', state: 's.json' },
      { kind: 'sync', configPath: 'c.json', catalogPath: 'k.json', statePath: 's.json', follow: false },
    ],
    [
      { config: 'c.json', follow: true },
      { kind: 'sync', configPath: 'c.json', catalogPath: undefined, statePath: undefined, follow: true },
    ],
  ])('%j', (argv, mode) => {
    expect(check(argv)).toEqual(mode);
  });

  test.each([
    [{}, '--config is required'],
    [{ format: 'json' as const, config: 'c' }, '--format goes with --about'],
    [{ config: 'c', discover: true, test: true }, 'cannot be combined'],
    [{ config: 'c', _: ['sync'] }, "unexpected argument 'sync'"],
    [{ config: 'c', discover: true, follow: true }, '--follow goes with a sync, not with --discover'],
  ])('%j is a usage error', (argv, message) => {
    expect(() => check(argv)).toThrow(message);
  });
});

test('source-invoca: --help and --version are modes, the commands need their files', () => {
  expect(checkSource({ help: true })).toEqual({ kind: 'help' });
  expect(checkSource({ _: ['read'], help: true })).toEqual({ kind: 'help' });
  expect(checkSource({ version: true })).toEqual({ kind: 'version' });
  expect(checkSource({ _: ['spec'] })).toEqual({ kind: 'spec' });
  expect(() => checkSource({ _: ['check'] })).toThrow('check needs --config');
  expect(() => checkSource({ _: ['read'], config: 'c' })).toThrow('read needs --catalog');
  expect(() => checkSource({ _: ['write'] })).toThrow(/usage: source-invoca spec/);
});
