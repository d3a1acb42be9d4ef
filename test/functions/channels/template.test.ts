/** Placeholders are escaped for where they land; unknown ones are errors, never empty strings. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  escapeValue,
  placeholders,
  renderTemplate,
  renderUrl,
  TemplateError,
} from '../../../functions/core/channels/template.ts';

describe('templates', () => {
  it('lists the placeholders a template uses', () => {
    expect(placeholders('{{to}} {{ text }} {{param.apiKey}} {{bad-name}}')).toEqual([
      'to',
      'text',
      'param.apiKey',
    ]);
  });

  it('keeps any string intact through a JSON string literal', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const body = renderTemplate('{"v":"{{text}}"}', { text: value }, 'json');
        expect(JSON.parse(body)).toEqual({ v: value });
      }),
    );
  });

  it('keeps any string intact through a form body, without adding fields', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (value) => {
        const form = new URLSearchParams(renderTemplate('a={{text}}&b=1', { text: value }, 'form'));
        expect([...form.keys()]).toEqual(['a', 'b']);
        expect(form.get('a')).toBe(value);
      }),
    );
  });

  it('keeps any string intact through a URL, inside one query parameter', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (value) => {
        const url = renderUrl('https://sms.example/send/{{to}}?m={{text}}', { to: '+45 20', text: value });
        expect(url.pathname).toBe('/send/%2B45%2020');
        expect([...url.searchParams.keys()]).toEqual(['m']);
        expect(url.searchParams.get('m')).toBe(value);
        expect(url.hash).toBe('');
      }),
    );
  });

  it('refuses line breaks in headers and unknown placeholders', () => {
    expect(() => escapeValue('a\r\nX-Evil: 1', 'header')).toThrow(TemplateError);
    expect(escapeValue('plain value', 'header')).toBe('plain value');
    expect(() => renderTemplate('{{nope}}', {}, 'raw')).toThrow(/nope/);
  });
});
