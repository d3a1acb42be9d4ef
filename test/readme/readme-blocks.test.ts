/** How the README test reads blocks, commands and samples, and how it matches a sample (readme-blocks.ts). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  firstMismatch,
  matchesSample,
  ReadmeFormatError,
  shellBlocks,
  splitCommands,
} from './readme-blocks.ts';
import { REPO } from './readme-runner.ts';

const md = (...lines: string[]) => lines.join('\n');

describe('shellBlocks', () => {
  it('takes only sh blocks, in order, and skips the marked ones with their reason', () => {
    const blocks = shellBlocks(
      md(
        '# Title',
        '```json',
        '{"a":1}',
        '```',
        '```sh',
        'echo one',
        '```',
        '<!-- readme-test: skip (needs AWS) -->',
        '',
        '```sh',
        'npx cdk deploy [--flash] "unclosed',
        '```',
        '```sh',
        'echo three',
        '```',
      ),
    );
    expect(blocks.map((b) => [b.index, b.line, b.skip, b.commands.map((c) => c.text)])).toEqual([
      [1, 5, undefined, ['echo one']],
      [2, 10, 'needs AWS', []],
      [3, 13, undefined, ['echo three']],
    ]);
  });

  it('refuses a marker it does not know, so a typo never runs a block meant to be skipped', () => {
    expect(() => shellBlocks(md('<!-- readme-test: skipp (x) -->', '```sh', 'rm -rf /', '```'))).toThrow(
      ReadmeFormatError,
    );
    expect(() => shellBlocks(md('<!-- readme-test: skip -->', '```sh', 'x', '```'))).toThrow(
      /skip \(reason\)/,
    );
  });

  it('refuses a marker that is not right before a sh block', () => {
    expect(() => shellBlocks(md('<!-- readme-test: skip (x) -->', 'prose', '```sh', 'x', '```'))).toThrow(
      /right before/,
    );
    expect(() => shellBlocks(md('<!-- readme-test: skip (x) -->', '```yaml', 'a: 1', '```'))).toThrow(
      /right before/,
    );
    expect(() => shellBlocks(md('text', '<!-- readme-test: skip (x) -->'))).toThrow(/right before/);
  });

  it('reads the README without a format error, and skips only blocks that say why', () => {
    const blocks = shellBlocks(readFileSync(join(REPO, 'README.md'), 'utf8'));
    expect(blocks.some((b) => b.skip === undefined && b.commands.length > 0)).toBe(true);
    for (const b of blocks.filter((b) => b.skip !== undefined)) expect(b.skip!.length).toBeGreaterThan(3);
  });
});

describe('splitCommands', () => {
  const split = (...lines: string[]) =>
    splitCommands(lines, 10).map((c) => ({ line: c.line, text: c.text, sample: c.sample }));

  it('keeps a command whole across line continuations, multi-line quotes and loops', () => {
    expect(
      split(
        'curl -s -X POST $API/x \\',
        '     -d \'{"a":[',
        '# not a comment: inside the quote',
        "  1]}'",
        'until false; do',
        '  sleep 1',
        'done',
        'X=$(echo a |',
        '  tr a b)',
      ),
    ).toEqual([
      {
        line: 10,
        text: 'curl -s -X POST $API/x \\\n     -d \'{"a":[\n# not a comment: inside the quote\n  1]}\'',
        sample: undefined,
      },
      { line: 14, text: 'until false; do\n  sleep 1\ndone', sample: undefined },
      { line: 17, text: 'X=$(echo a |\n  tr a b)', sample: undefined },
    ]);
  });

  it('keeps a here-document whole, whatever its lines look like, and reads the sample after it', () => {
    expect(
      split(
        "curl -s --data-binary @- <<'PSKC'",
        '<KeyContainer Version="1.0">',
        '# data, not a comment',
        '</KeyContainer>',
        'PSKC',
        '# {"imported":1}',
      ),
    ).toEqual([
      {
        line: 10,
        text: 'curl -s --data-binary @- <<\'PSKC\'\n<KeyContainer Version="1.0">\n# data, not a comment\n</KeyContainer>\nPSKC',
        sample: '{"imported":1}',
      },
    ]);
  });

  it('gives a command the sample lines right after it, continued on "#  " lines', () => {
    expect(
      split(
        '# 1. prose before a command',
        'echo \'{"a":1}\'',
        '# {"a":1}',
        'printf \'{"a":1,\\n"b":2}\'',
        '# {"a":1,',
        '#  "b":2}',
        "echo '[1]'; echo '{\"c\":3}'",
        '# [1]',
        '# {"c":3}',
        'echo done # a trailing comment',
        '# prose after a command is not a sample',
        '#   nor is an indented line after prose',
      ),
    ).toEqual([
      { line: 11, text: 'echo \'{"a":1}\'', sample: '{"a":1}' },
      { line: 13, text: 'printf \'{"a":1,\\n"b":2}\'', sample: '{"a":1,\n"b":2}' },
      { line: 16, text: "echo '[1]'; echo '{\"c\":3}'", sample: '[1]\n{"c":3}' },
      { line: 19, text: 'echo done # a trailing comment', sample: undefined },
    ]);
  });

  it('refuses a sample with no command right before it: nobody would check it', () => {
    expect(() => split('echo a', '', '# {"a":1}')).toThrow(
      /line 12: a sample of output must come right after/,
    );
    expect(() => split('echo a', '# prose', '# {"a":1}')).toThrow(ReadmeFormatError);
  });

  it('refuses a command that never ends', () => {
    expect(() => split("echo 'unclosed")).toThrow(/line 10: the command never ends/);
    expect(() => split('echo a \\')).toThrow(/never ends/);
  });
});

describe('matchesSample', () => {
  it('reads … as any text, inside strings and as whole values', () => {
    const sample = '{"challengeId":"…","expiresAt":"…","channel":"sms","n":…}';
    expect(
      matchesSample(sample, '{"challengeId":"abc","expiresAt":"2026-01-01T00:00:00Z","channel":"sms","n":3}'),
    ).toBe(true);
    expect(matchesSample('{"a":[…]}', '{"a":[]}')).toBe(true);
    expect(matchesSample('{"a":[…]}', '{"a":[{"b":1},\n{"b":2}]}')).toBe(true);
    expect(matchesSample(sample, '{"challengeId":"abc","expiresAt":"x","channel":"voice","n":3}')).toBe(
      false,
    );
  });

  it('ignores whitespace, indentation and line breaks', () => {
    expect(matchesSample('{"a": 1, "b": "x y"}', '{\n  "a":1,\n  "b":"x  y"\n}\n')).toBe(true);
  });

  it('matches the whole output, not a part of it', () => {
    expect(matchesSample('{"a":1}', '{"a":1}{"b":2}')).toBe(false);
    expect(matchesSample('{"a":1}', 'x{"a":1}')).toBe(false);
    expect(matchesSample('{"a":1}', '')).toBe(false);
  });

  it('takes regular expression characters literally', () => {
    expect(matchesSample('{"p":"a.b*(c)?[d]$"}', '{"p":"a.b*(c)?[d]$"}')).toBe(true);
    expect(matchesSample('{"p":"a.b"}', '{"p":"axb"}')).toBe(false);
  });

  it('says where a sample stops matching', () => {
    expect(firstMismatch('{"a":"…","b":2}', '{"a":"x","b":3}')).toBe(
      'the output has no "","b":2}" where the sample has it',
    );
    expect(firstMismatch('{"a":1}', '{"a":1}more')).toBe('the output goes on after the end of the sample');
    expect(firstMismatch('{"a":…}', '{"a":1}')).toBeUndefined();
  });
});
