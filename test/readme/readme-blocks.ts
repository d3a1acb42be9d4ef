/**
 * Reads README.md's shell examples the way test/readme/readme-examples.test.ts runs them: every ```sh block in
 * order, each split into commands, each command with the sample of its output that the README shows.
 *
 * - A block is skipped when the last non-blank line before its fence is `<!-- readme-test: skip (reason) -->`.
 * - A sample is a `# {…}` or `# […]` comment line right after a command, continued on the `#  ` lines (two
 *   spaces) or further `# {…}` lines that follow it; `…` stands for any text and whitespace is ignored. Other
 *   comment lines are prose.
 */
import { spawnSync } from 'node:child_process';

export interface Command {
  /** README line of the command's first line (1-based). */
  line: number;
  text: string;
  /** The output the README shows for it, lines joined by "\n"; undefined when it shows none. */
  sample: string | undefined;
}

export interface ShellBlock {
  /** 1-based position among the README's sh blocks. */
  index: number;
  /** README line of the opening fence. */
  line: number;
  skip: string | undefined;
  commands: Command[];
}

const FENCE = /^```(\S*)\s*$/;
const MARKER = /^<!--\s*readme-test:\s*(.*?)\s*-->$/;
const SKIP = /^skip\s*\((.+)\)$/;
const SAMPLE = /^\s*#\s?([[{].*)$/;
const SAMPLE_GOES_ON = /^\s*#\s{2,}(\S.*)$/;
const COMMENT = /^\s*#/;

export class ReadmeFormatError extends Error {}

/** The README's sh blocks; a marker that is malformed or not followed by a sh block is an error, not a guess. */
export function shellBlocks(
  markdown: string,
  isComplete: (text: string) => boolean = bashAccepts,
): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  let pendingMarker: { line: number; reason: string } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const marker = MARKER.exec(line.trim());
    if (marker) {
      const skip = SKIP.exec(marker[1]!);
      if (!skip)
        throw new ReadmeFormatError(
          `README line ${i + 1}: "${line.trim()}" is not <!-- readme-test: skip (reason) -->`,
        );
      pendingMarker = { line: i + 1, reason: skip[1]!.trim() };
      continue;
    }
    const fence = FENCE.exec(line);
    if (!fence) {
      if (line.trim() !== '' && pendingMarker) throw markerWithoutBlock(pendingMarker.line);
      continue;
    }
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new ReadmeFormatError(`README line ${i + 1}: the code block never closes`);
    if (fence[1] === 'sh') {
      const body = lines.slice(i + 1, end);
      blocks.push({
        index: blocks.length + 1,
        line: i + 1,
        skip: pendingMarker?.reason,
        // A skipped block may not even be bash (placeholders, `[--flash]`): it is not parsed.
        commands: pendingMarker ? [] : splitCommands(body, i + 2, isComplete),
      });
    } else if (pendingMarker) {
      throw markerWithoutBlock(pendingMarker.line);
    }
    pendingMarker = undefined;
    i = end;
  }
  if (pendingMarker) throw markerWithoutBlock(pendingMarker.line);
  return blocks;
}

const markerWithoutBlock = (line: number) =>
  new ReadmeFormatError(`README line ${line}: a readme-test marker must come right before a \`\`\`sh block`);

/**
 * Splits a block's lines into whole commands: a command goes on until bash would run it (line continuations,
 * multi-line quotes, loops), and the sample lines that follow it are its sample.
 */
export function splitCommands(
  body: string[],
  firstLine: number,
  isComplete: (text: string) => boolean = bashAccepts,
): Command[] {
  const commands: Command[] = [];
  let open: { line: number; lines: string[]; heredoc?: string } | undefined;
  // The command a sample line right here would belong to: the last one, until prose or a blank line comes.
  let last: Command | undefined;
  for (const [k, text] of body.entries()) {
    const line = firstLine + k;
    if (open?.heredoc !== undefined) {
      // A here-document's lines are data, whatever they look like, until its delimiter line.
      open.lines.push(text);
      if (text === open.heredoc) delete open.heredoc;
      else continue;
    } else if (open) {
      open.lines.push(text);
    } else if (text.trim() === '') {
      last = undefined;
      continue;
    } else if (COMMENT.test(text)) {
      const sample = SAMPLE.exec(text) ?? (last?.sample === undefined ? null : SAMPLE_GOES_ON.exec(text));
      // A sample nobody would check is a mistake in the README, not prose.
      if (sample && !last)
        throw new ReadmeFormatError(
          `README line ${line}: a sample of output must come right after its command (no blank line or prose between)`,
        );
      if (sample && last)
        last.sample = last.sample === undefined ? sample[1]! : `${last.sample}\n${sample[1]}`;
      else last = undefined;
      continue;
    } else {
      open = { line, lines: [text] };
    }
    const heredoc = HEREDOC.exec(text);
    if (heredoc && open.lines.length > 0 && text === open.lines.at(-1)) {
      open.heredoc = heredoc[1]!;
      continue;
    }
    const joined = open.lines.join('\n');
    if (text.endsWith('\\') || !isComplete(joined)) continue;
    last = { line: open.line, text: joined, sample: undefined };
    commands.push(last);
    open = undefined;
  }
  if (open)
    throw new ReadmeFormatError(
      `README line ${open.line}: the command never ends (an unclosed quote or loop?)`,
    );
  return commands;
}

/** A here-document opened on a line (`<<'EOF'`, `<<EOF`, `<<-EOF`): its delimiter. */
const HEREDOC = /<<-?\s*['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?\s*$/;

/** True when bash can parse the text as it is (no unclosed quote, loop or substitution). */
export function bashAccepts(text: string): boolean {
  return spawnSync('bash', ['-n'], { input: text, stdio: ['pipe', 'ignore', 'ignore'] }).status === 0;
}

/** Whether `actual` is what `sample` shows: `…` stands for any text, whitespace is ignored. */
export function matchesSample(sample: string, actual: string): boolean {
  return samplePattern(sample).test(squeeze(actual));
}

/**
 * For a failure message: the sample up to the first piece the output does not have, so a long JSON line
 * says where it went wrong. Undefined when the whole sample matches.
 */
export function firstMismatch(sample: string, actual: string): string | undefined {
  const pieces = squeeze(sample).split('…');
  const out = squeeze(actual);
  for (let k = 1; k <= pieces.length; k++) {
    const head = pieces.slice(0, k).map(escapeRegExp).join('[\\s\\S]*?');
    const anchored = k === pieces.length ? `^${head}$` : `^${head}`;
    if (!new RegExp(anchored).test(out))
      return k === pieces.length && new RegExp(`^${head}`).test(out)
        ? 'the output goes on after the end of the sample'
        : `the output has no "${pieces[k - 1]}" where the sample has it`;
  }
  return undefined;
}

const squeeze = (s: string) => s.replace(/\s+/g, '');
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function samplePattern(sample: string): RegExp {
  const pieces = squeeze(sample).split('…').map(escapeRegExp);
  return new RegExp(`^${pieces.join('[\\s\\S]*?')}$`);
}
