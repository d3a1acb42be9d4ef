/** Small building blocks of console and portal pages: form fields with their errors, tables, notices. */
import type { Child } from 'hono/jsx';
import { CSRF_FIELD } from '../../functions/web/session-http.ts';

/** Validation messages by field name (`rules.1.timeoutSeconds`), plus `''` for the form as a whole. */
export type FieldErrors = Record<string, string>;

export function Csrf(props: { token: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={props.token} />;
}

/** A form that posts with the CSRF token; `confirm` asks before it is sent (by the page script). */
export function PostForm(props: {
  action: string;
  csrf: string;
  confirm?: string;
  class?: string;
  enctype?: 'multipart/form-data';
  children?: Child;
}) {
  return (
    <form
      method="post"
      action={props.action}
      class={props.class}
      data-confirm={props.confirm}
      enctype={props.enctype}
    >
      <Csrf token={props.csrf} />
      {props.children}
    </form>
  );
}

interface FieldProps {
  name: string;
  label: string;
  value?: string | number | undefined;
  type?: string;
  hint?: string;
  errors?: FieldErrors | undefined;
  required?: boolean;
  autocomplete?: string;
  inputmode?: 'numeric' | 'text' | 'email';
  min?: number;
  max?: number;
  readonly?: boolean;
}

const idOf = (name: string) => `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/** A labelled input with its hint and its error beside it (`aria-describedby`, `aria-invalid`). */
export function Field(props: FieldProps) {
  const id = idOf(props.name);
  const error = props.errors?.[props.name];
  const described = [props.hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ');
  return (
    <div class={error ? 'field invalid' : 'field'}>
      <label for={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value === undefined ? undefined : String(props.value)}
        required={props.required}
        autocomplete={props.autocomplete}
        inputmode={props.inputmode}
        min={props.min}
        max={props.max}
        readonly={props.readonly}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={described || undefined}
      />
      {props.hint && (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      )}
      <FieldError id={`${id}-error`} message={error} />
    </div>
  );
}

export function FieldError(props: { id: string; message: string | undefined }) {
  return props.message ? (
    <p class="error" id={props.id}>
      {props.message}
    </p>
  ) : null;
}

export function Select(props: {
  name: string;
  label: string;
  options: Array<{ value: string; label: string }>;
  value?: string | undefined;
  errors?: FieldErrors | undefined;
  hint?: string;
}) {
  const id = idOf(props.name);
  const error = props.errors?.[props.name];
  return (
    <div class={error ? 'field invalid' : 'field'}>
      <label for={id}>{props.label}</label>
      <select
        id={id}
        name={props.name}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      >
        {props.options.map((o) => (
          <option value={o.value} selected={o.value === props.value}>
            {o.label}
          </option>
        ))}
      </select>
      {props.hint && <p class="hint">{props.hint}</p>}
      <FieldError id={`${id}-error`} message={error} />
    </div>
  );
}

export function Checkbox(props: { name: string; label: string; checked?: boolean; value?: string }) {
  const id = idOf(`${props.name}-${props.value ?? 'on'}`);
  return (
    <div class="check">
      <input id={id} type="checkbox" name={props.name} value={props.value ?? 'on'} checked={props.checked} />
      <label for={id}>{props.label}</label>
    </div>
  );
}

/** The error that belongs to no single field, or a success message; announced to screen readers. */
export function Notice(props: { kind: 'error' | 'ok' | 'info'; children?: Child }) {
  return (
    <div class={`notice ${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}

export function Empty(props: { children?: Child }) {
  return <p class="empty">{props.children}</p>;
}

/** A table that scrolls sideways on a narrow screen instead of widening the page. */
export function Table(props: { caption: string; head: string[]; children?: Child }) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="visually-hidden">{props.caption}</caption>
        <thead>
          <tr>
            {props.head.map((h) => (
              <th scope="col">{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

/** A status word with a colour and a text label (never colour alone). */
export function Badge(props: { tone: 'ok' | 'warn' | 'bad' | 'muted'; children?: Child }) {
  return <span class={`badge ${props.tone}`}>{props.children}</span>;
}

/** "Next page" by cursor: the list APIs page forward only. */
export function NextPage(props: { href: string | undefined }) {
  return props.href ? (
    <p class="pager">
      <a href={props.href}>Next page →</a>
    </p>
  ) : null;
}
