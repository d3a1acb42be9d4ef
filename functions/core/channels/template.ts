/**
 * `{{name}}` templates for tenant-defined HTTP providers. Every value is escaped for the place it lands
 * in, so a message text with quotes, ampersands or newlines can neither break the request nor inject
 * fields into it: JSON string escaping in JSON bodies, form encoding in form bodies, percent-encoding in
 * URLs, and a refusal of line breaks in headers.
 */

export type Escaping = 'json' | 'form' | 'url' | 'header' | 'raw';

export type TemplateValues = Record<string, string>;

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)?)\s*\}\}/g;

/** The names a template uses, e.g. `["to", "text", "param.apiKey"]`. */
export function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

export function escapeValue(value: string, escaping: Escaping): string {
  switch (escaping) {
    case 'json':
      // Inside a JSON string literal: the quotes JSON.stringify adds are the template's own.
      return JSON.stringify(value).slice(1, -1);
    case 'form':
      return new URLSearchParams([['', value]]).toString().slice(1);
    case 'url':
      return encodeURIComponent(value);
    case 'header':
      // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the bytes that split headers.
      if (/[\r\n\u0000]/.test(value)) throw new TemplateError('A header value may not contain line breaks.');
      return value;
    case 'raw':
      return value;
  }
}

/** Replaces each placeholder; an unknown name is an error, never an empty string sent to a provider. */
export function renderTemplate(template: string, values: TemplateValues, escaping: Escaping): string {
  return template.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new TemplateError(`The template uses {{${name}}}, which has no value.`);
    return escapeValue(value, escaping);
  });
}

/**
 * Renders a URL: placeholders are percent-encoded wherever they sit, so a value cannot add a path
 * segment, a query parameter or a fragment.
 */
export function renderUrl(template: string, values: TemplateValues): URL {
  const rendered = renderTemplate(template, values, 'url');
  try {
    return new URL(rendered);
  } catch {
    throw new TemplateError('The URL template does not render to a valid URL.');
  }
}
