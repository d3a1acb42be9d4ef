/**
 * Providers: the tenant's web SMS gateways, voice call gateways and e-mail (SMTP or SES) senders. Each form is
 * generated from the kind's parameter list (the one `/v1/provider-kinds` shows), and saved through the same
 * schema and TenantConfigService as `/v1/providers`. Secret parameters are write-only: the page never holds
 * their value, not even after a failed save; an empty secret field keeps the stored value.
 */
import { Hono } from 'hono';
import { ProviderInput, ProviderUpdate } from '../../functions/contracts/admin.ts';
import { PROVIDER_KIND_NAMES, type ProviderKindName } from '../../functions/contracts/channels.ts';
import { ID_PATTERN } from '../../functions/contracts/topics.ts';
import { describeProviderKinds } from '../../functions/core/channels/provider-kinds.ts';
import {
  type ParameterSpec,
  type ParamValue,
  SECRET_MASK,
} from '../../functions/core/channels/provider-params.ts';
import { isProviderKind } from '../../functions/core/channels/registry.ts';
import { NotFoundError } from '../../functions/core/errors.ts';
import type { Provider } from '../../functions/core/ports/tenant-config.ts';
import { providerView } from '../../functions/core/provider-secrets.ts';
import {
  Checkbox,
  Empty,
  Field,
  FieldError,
  type FieldErrors,
  Notice,
  PostForm,
  Select,
  Table,
} from '../layout/components.tsx';
import {
  actorOf,
  type ConsoleContext,
  type ConsoleEnv,
  canWrite,
  csrfOf,
  formOf,
  tenantOf,
} from './context.ts';
import { domainErrors, zodErrors } from './forms.ts';
import { consolePage } from './page.tsx';
import type { TenantPagesDeps } from './users.tsx';

const BASE = '/admin/providers';
const KINDS = describeProviderKinds();
const kindOf = (kind: ProviderKindName) => KINDS.find((k) => k.kind === kind)!;
const ADD_LABEL: Record<ProviderKindName, string> = {
  sms_web: 'Add an SMS provider',
  voice: 'Add a voice provider',
  email: 'Add an e-mail (SMTP) provider',
};

interface Draft {
  name: string;
  description: string;
  /** Non-secret values as typed; secrets are never kept here. */
  params: Record<string, string>;
  /** Which secrets have a stored value. */
  secretsSet: Set<string>;
}

const paramField = (name: string) => `params.${name}`;

function draftOf(provider: Provider): Draft {
  const shown = providerView(provider).params;
  const params: Record<string, string> = {};
  const secretsSet = new Set<string>();
  for (const [name, value] of Object.entries(shown)) {
    if (value === SECRET_MASK) secretsSet.add(name);
    else params[name] = String(value);
  }
  return { name: provider.name, description: provider.description ?? '', params, secretsSet };
}

/** The posted params as the API takes them: typed by the spec; an empty field is left out (its default). */
function paramsFrom(
  specs: readonly ParameterSpec[],
  form: Record<string, string>,
  secretsSet: Set<string>,
): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const spec of specs) {
    const raw = form[paramField(spec.name)] ?? '';
    const value = spec.type === 'text' ? raw.replace(/\r\n/g, '\n') : raw.trim();
    if (spec.secret) {
      // Empty keeps the stored secret (sent back as the mask, as the API documents); "remove" drops it.
      if (value !== '') out[spec.name] = value;
      else if (secretsSet.has(spec.name) && form[`clear.${spec.name}`] !== 'on') out[spec.name] = SECRET_MASK;
      continue;
    }
    if (value === '') continue;
    if (spec.type === 'boolean') out[spec.name] = value === 'true';
    else if (spec.type === 'number') out[spec.name] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
    else out[spec.name] = value;
  }
  return out;
}

function draftFromForm(
  specs: readonly ParameterSpec[],
  form: Record<string, string>,
  secretsSet: Set<string>,
) {
  const params: Record<string, string> = {};
  for (const spec of specs) if (!spec.secret) params[spec.name] = form[paramField(spec.name)] ?? '';
  return { name: (form.name ?? '').trim(), description: form.description ?? '', params, secretsSet };
}

const defaultText = (spec: ParameterSpec) =>
  spec.default === undefined
    ? ''
    : spec.type === 'boolean'
      ? spec.default
        ? 'yes'
        : 'no'
      : String(spec.default);

/** One parameter's input, by its type, with its description and its error beside it. */
function ParamInput(props: { spec: ParameterSpec; draft: Draft; errors: FieldErrors; editing: boolean }) {
  const { spec, draft, errors } = props;
  const name = paramField(spec.name);
  const label = `${spec.name}${spec.required ? '' : ' (optional)'}`;
  const fallback = defaultText(spec);
  const hint = `${spec.description}${fallback ? ` Default: ${fallback}.` : ''}`;
  const value = draft.params[spec.name] ?? '';
  if (spec.secret) {
    const set = draft.secretsSet.has(spec.name);
    return (
      <div class="secret-param">
        <Field
          name={name}
          label={`${spec.name} (secret)`}
          type="password"
          autocomplete="new-password"
          hint={`${spec.description} ${
            set
              ? 'A value is stored; it is never shown. Leave empty to keep it, or type a new one.'
              : 'Not set. It is stored sealed and never shown again.'
          }`}
          errors={errors}
        />
        {set && props.editing && (
          <Checkbox name={`clear.${spec.name}`} label={`Remove the stored ${spec.name}`} />
        )}
      </div>
    );
  }
  if (spec.type === 'enum' || spec.type === 'boolean') {
    const values = spec.type === 'boolean' ? ['true', 'false'] : (spec.values ?? []);
    return (
      <Select
        name={name}
        label={label}
        value={value}
        errors={errors}
        hint={spec.description}
        options={[
          { value: '', label: fallback ? `Default (${fallback})` : 'Not set' },
          ...values.map((v) => ({
            value: v,
            label: spec.type === 'boolean' ? (v === 'true' ? 'Yes' : 'No') : v,
          })),
        ]}
      />
    );
  }
  if (spec.type === 'text') {
    const id = `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
    const error = errors[name];
    return (
      <div class={error ? 'field invalid' : 'field'}>
        <label for={id}>{label}</label>
        <textarea
          id={id}
          name={name}
          rows={3}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
        >
          {value}
        </textarea>
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
        <FieldError id={`${id}-error`} message={error} />
      </div>
    );
  }
  return (
    <Field
      name={name}
      label={label}
      // A URL template ({{to}}) is checked by the service, not the browser.
      type={spec.type === 'number' ? 'number' : 'text'}
      value={value}
      hint={hint}
      errors={errors}
      required={spec.required}
      {...(spec.min !== undefined && { min: spec.min })}
      {...(spec.max !== undefined && { max: spec.max })}
    />
  );
}

export function providerPages(deps: TenantPagesDeps) {
  const app = new Hono<ConsoleEnv>();

  app.get('/', async (c) => {
    const providers = await deps.config.list(tenantOf(c), 'provider');
    const write = canWrite(c);
    return consolePage(
      c,
      'Providers',
      <>
        <p>
          Web SMS and voice call gateways, and e-mail senders, that rules of a load-balancing policy can name
          as their route. Secret parameters are stored sealed and never shown.
        </p>
        {providers.length === 0 ? (
          <Empty>No providers yet: every rule goes through the agents' modems.</Empty>
        ) : (
          <Table caption="Providers" head={['Name', 'Kind', 'Sends to', 'Description']}>
            {providers.map((p) => (
              <tr>
                <td>
                  <a href={`${BASE}/${encodeURIComponent(p.name)}`}>{p.name}</a>
                </td>
                <td>{isProviderKind(p.kind) ? kindOf(p.kind).title : p.kind}</td>
                <td class="mono">{endpointOf(p)}</td>
                <td>{p.description || '—'}</td>
              </tr>
            ))}
          </Table>
        )}
        {write && (
          <div class="actions">
            {PROVIDER_KIND_NAMES.map((k) => (
              <a class="button secondary" href={`${BASE}/new/${k}`}>
                {ADD_LABEL[k]}
              </a>
            ))}
          </div>
        )}
      </>,
    );
  });

  const form = (
    c: ConsoleContext,
    kind: ProviderKindName,
    draft: Draft,
    editing: boolean,
    errors: FieldErrors = {},
    saved = false,
  ) => {
    const unit = kindOf(kind);
    const write = canWrite(c);
    const action = editing ? `${BASE}/${encodeURIComponent(draft.name)}` : `${BASE}/new/${kind}`;
    const required = unit.parameters.filter((s) => s.required && !s.secret);
    const optional = unit.parameters.filter((s) => !s.required && !s.secret);
    const secrets = unit.parameters.filter((s) => s.secret);
    const inputs = (specs: ParameterSpec[]) =>
      specs.map((spec) => <ParamInput spec={spec} draft={draft} errors={errors} editing={editing} />);
    return consolePage(
      c,
      editing ? `Provider ${draft.name}` : `New provider: ${unit.title}`,
      <>
        {saved && <Notice kind="ok">Saved. Secret values are stored sealed and are not shown.</Notice>}
        {Object.keys(errors).length > 0 && (
          <Notice kind="error">
            {errors[''] ?? 'The provider was not saved: see the messages beside the fields.'}
            {secrets.length > 0 && ' Secrets typed are not put back into the page: type them again.'}
          </Notice>
        )}
        <PostForm action={action} csrf={csrfOf(c)}>
          <p>
            Kind: <strong>{unit.title}</strong> (channel <code>{unit.channel}</code>)
          </p>
          <Field
            name="name"
            label="Name"
            value={draft.name}
            hint={
              editing
                ? 'A provider keeps its name: rules name it as their route.'
                : '1–64 letters, digits, "_" or "-". Rules name the provider by it.'
            }
            errors={errors}
            required
            readonly={editing}
          />
          <Field
            name="description"
            label="Description (optional)"
            value={draft.description}
            errors={errors}
          />
          <FieldError id="f-params-error" message={errors.params} />
          <fieldset>
            <legend>Required</legend>
            {inputs(required)}
          </fieldset>
          {secrets.length > 0 && (
            <fieldset>
              <legend>Secrets (write-only)</legend>
              {inputs(secrets)}
            </fieldset>
          )}
          <fieldset>
            <legend>Optional</legend>
            {inputs(optional)}
          </fieldset>
          {write && (
            <div class="actions">
              <button type="submit">Save provider</button>
              <a href={BASE}>Back to providers</a>
            </div>
          )}
        </PostForm>
        {editing && write && (
          <PostForm
            action={`${BASE}/${encodeURIComponent(draft.name)}/delete`}
            csrf={csrfOf(c)}
            confirm={`Delete the provider ${draft.name}?`}
          >
            <button type="submit" class="danger">
              Delete provider
            </button>
          </PostForm>
        )}
      </>,
      Object.keys(errors).length > 0 ? 422 : 200,
    );
  };

  const kindParam = (c: ConsoleContext): ProviderKindName => {
    const kind = c.req.param('kind') ?? '';
    if (!isProviderKind(kind)) throw new NotFoundError('The provider kind');
    return kind;
  };
  const nameParam = (c: ConsoleContext) => {
    const name = c.req.param('name') ?? '';
    if (!ID_PATTERN.test(name)) throw new NotFoundError('The provider');
    return name;
  };
  const blank = (): Draft => ({ name: '', description: '', params: {}, secretsSet: new Set() });

  app.get('/new/:kind', (c) => form(c, kindParam(c), blank(), false));
  app.post('/new/:kind', async (c) => {
    const kind = kindParam(c);
    const posted = await formOf(c);
    const specs = kindOf(kind).parameters;
    const draft = draftFromForm(specs, posted, new Set());
    const parsed = ProviderInput.safeParse({
      name: draft.name,
      kind,
      ...(draft.description.trim() && { description: draft.description.trim() }),
      params: paramsFrom(specs, posted, new Set()),
    });
    if (!parsed.success) return form(c, kind, draft, false, zodErrors(parsed.error));
    try {
      const created = await deps.config.create(
        tenantOf(c),
        actorOf(c),
        'provider',
        parsed.data as never,
        parsed.data.name,
      );
      return c.redirect(`${BASE}/${encodeURIComponent(created.name)}?saved=1`, 303);
    } catch (error) {
      return form(c, kind, draft, false, errorsOf(error));
    }
  });

  app.get('/:name', async (c) => {
    const provider = await deps.config.get(tenantOf(c), 'provider', nameParam(c));
    return form(c, provider.kind, draftOf(provider), true, {}, c.req.query('saved') === '1');
  });
  app.post('/:name', async (c) => {
    const stored = await deps.config.get(tenantOf(c), 'provider', nameParam(c));
    const posted = await formOf(c);
    const specs = kindOf(stored.kind).parameters;
    const secretsSet = draftOf(stored).secretsSet;
    const draft = { ...draftFromForm(specs, posted, secretsSet), name: stored.name };
    const parsed = ProviderUpdate.safeParse({
      description: draft.description.trim(),
      params: paramsFrom(specs, posted, secretsSet),
    });
    if (!parsed.success) return form(c, stored.kind, draft, true, zodErrors(parsed.error));
    try {
      const saved = await deps.config.replace(
        tenantOf(c),
        actorOf(c),
        'provider',
        stored.name,
        parsed.data as Partial<Provider>,
      );
      return form(c, saved.kind, draftOf(saved), true, {}, true);
    } catch (error) {
      return form(c, stored.kind, draft, true, errorsOf(error));
    }
  });
  app.post('/:name/delete', async (c) => {
    const stored = await deps.config.get(tenantOf(c), 'provider', nameParam(c));
    try {
      await deps.config.remove(tenantOf(c), actorOf(c), 'provider', stored.name);
    } catch (error) {
      return form(c, stored.kind, draftOf(stored), true, domainErrors(error));
    }
    return c.redirect(BASE, 303);
  });
  return app;
}

/** The service's messages by field; one about the whole provider (already exists, …) goes on top. */
function errorsOf(error: unknown): FieldErrors {
  const errors = domainErrors(error);
  // The API's issues say "is required…" of `params.x`; beside the field they read with its name first.
  for (const [field, message] of Object.entries(errors))
    if (field.startsWith('params.') && /^[a-z]/.test(message)) errors[field] = `${field.slice(7)} ${message}`;
  return errors;
}

/** Where a provider sends, for the list: its URL's origin or its mail server; never a credential. */
function endpointOf(provider: Provider): string {
  const p = provider.params ?? {};
  if (typeof p.url === 'string') {
    try {
      return new URL(p.url.replace(/\{\{[^}]*\}\}/g, 'x')).origin;
    } catch {
      return '—';
    }
  }
  if (p.transport === 'ses') return 'Amazon SES';
  if (typeof p.host === 'string') return `${p.host}:${p.port ?? 587}`;
  return '—';
}
