/**
 * Security settings: the tenant's passcode defaults and abuse defences, within the ceilings the operator set.
 * Each field shows the value in force, where it comes from and the operator's bound; a save sends only what
 * was changed (so an untouched default stays a default), through the same schema and TenantSettingsService
 * as `PATCH /v1/settings`, and a value beyond a ceiling gets the service's message beside its field.
 */
import { Hono } from 'hono';
import { TenantSettingsUpdate } from '../../functions/contracts/admin.ts';
import { AboveCeilingError } from '../../functions/core/admin-errors.ts';
import { DomainError } from '../../functions/core/errors.ts';
import type { TenantSettingsService } from '../../functions/core/tenant-settings.ts';
import {
  Badge,
  Checkbox,
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
import { domainErrors, numberOf, zodErrors } from './forms.ts';
import { consolePage } from './page.tsx';
import type { TenantPagesDeps } from './users.tsx';

type View = Awaited<ReturnType<TenantSettingsService['view']>>;
type Resolved = { value: unknown; from: string };

/** Form field (the `PATCH /v1/settings` path) → the resolved setting it sets. */
const SETTING_OF: Record<string, string> = {
  'passcode.length': 'passcode.length',
  'passcode.validitySeconds': 'passcode.validitySeconds',
  'passcode.maxAttempts': 'passcode.maxAttempts',
  'passcode.alphabet': 'passcode.alphabet',
  messageTemplate: 'passcode.messageTemplate',
  webOtpOrigin: 'passcode.webOtpOrigin',
  'security.allowPersonalPasscode': 'security.allowPersonalPasscode',
  'security.bindClientIp': 'security.bindClientIp',
  'security.allowedCountries': 'security.allowedCountries',
  'security.lockout.maxFailures': 'lockout.maxFailures',
  'security.lockout.lockSeconds': 'lockout.lockSeconds',
  'security.limits.windowSeconds': 'limits.windowSeconds',
  'security.limits.perUser': 'limits.perUser',
  'security.limits.perDestination': 'limits.perDestination',
  'security.limits.perClientIp': 'limits.perClientIp',
  'security.limits.perTenant': 'limits.perTenant',
};

const NUMBERS: Array<{ field: string; label: string; unit?: string }> = [
  { field: 'passcode.length', label: 'Passcode length', unit: 'characters' },
  { field: 'passcode.validitySeconds', label: 'Passcode valid for', unit: 'seconds' },
  { field: 'passcode.maxAttempts', label: 'Attempts per passcode' },
];
const LOCKOUT: typeof NUMBERS = [
  { field: 'security.lockout.maxFailures', label: 'Failed passcodes before a user is locked' },
  { field: 'security.lockout.lockSeconds', label: 'Lock lasts', unit: 'seconds' },
];
const LIMITS: typeof NUMBERS = [
  { field: 'security.limits.windowSeconds', label: 'Rate-limit window', unit: 'seconds' },
  { field: 'security.limits.perUser', label: 'Passcodes per user in a window' },
  { field: 'security.limits.perDestination', label: 'Passcodes per phone number in a window' },
  { field: 'security.limits.perClientIp', label: 'Passcodes per client IP in a window' },
  { field: 'security.limits.perTenant', label: 'Passcodes for the whole tenant in a window' },
];

/** The operator's bound on a field, as a hint. */
function boundOf(field: string, view: View): string | undefined {
  const c = view.ceilings;
  const max = (v: number | undefined) => (v === undefined ? undefined : `The operator's maximum: ${v}.`);
  const min = (v: number | undefined) => (v === undefined ? undefined : `The operator's minimum: ${v}.`);
  switch (field) {
    case 'passcode.length':
      return min(c.passcode?.minLength);
    case 'passcode.validitySeconds':
      return max(c.passcode?.maxValiditySeconds);
    case 'passcode.maxAttempts':
      return max(c.passcode?.maxAttempts);
    case 'security.lockout.maxFailures':
      return max(c.lockout?.maxFailures);
    case 'security.lockout.lockSeconds':
      return min(c.lockout?.minLockSeconds);
    case 'security.limits.windowSeconds':
      return min(c.limits?.minWindowSeconds);
    case 'security.limits.perUser':
      return max(c.limits?.perUser);
    case 'security.limits.perDestination':
      return max(c.limits?.perDestination);
    case 'security.limits.perClientIp':
      return max(c.limits?.perClientIp);
    case 'security.limits.perTenant':
      return max(c.limits?.perTenant);
    case 'security.allowPersonalPasscode':
      return c.allowPersonalPasscode === false
        ? 'The operator does not allow personal passcodes for this tenant.'
        : undefined;
  }
  return undefined;
}

/** The operator's ceilings as a person reads them: the setting, and the bound on it. */
function boundsOf(view: View): Array<[string, string]> {
  const c = view.ceilings;
  const rows: Array<[string, number | undefined, 'at least' | 'at most']> = [
    ['Passcode length', c.passcode?.minLength, 'at least'],
    ['Passcode valid for (seconds)', c.passcode?.maxValiditySeconds, 'at most'],
    ['Attempts per passcode', c.passcode?.maxAttempts, 'at most'],
    ['Failed passcodes before a user is locked', c.lockout?.maxFailures, 'at most'],
    ['Lock lasts (seconds)', c.lockout?.minLockSeconds, 'at least'],
    ['Rate-limit window (seconds)', c.limits?.minWindowSeconds, 'at least'],
    ['Passcodes per user in a window', c.limits?.perUser, 'at most'],
    ['Passcodes per phone number in a window', c.limits?.perDestination, 'at most'],
    ['Passcodes per client IP in a window', c.limits?.perClientIp, 'at most'],
    ['Passcodes for the whole tenant in a window', c.limits?.perTenant, 'at most'],
  ];
  const out: Array<[string, string]> = rows
    .filter((r): r is [string, number, 'at least' | 'at most'] => r[1] !== undefined)
    .map(([label, value, how]) => [label, `${how} ${value}`]);
  if (c.allowPersonalPasscode !== undefined)
    out.push(['Personal passcodes', c.allowPersonalPasscode ? 'may be allowed' : 'not allowed']);
  return out;
}

const FROM_LABEL: Record<string, string> = {
  default: 'product default',
  operator: "held to the operator's bound",
  tenant: 'set by this tenant',
};

/**
 * An AboveCeilingError's parts by field: each names its setting first (`limits.perUser 50 is over …`,
 * `allowedCountries: …`; the passcode's as `length 3 is under …`).
 */
function ceilingErrors(error: AboveCeilingError): FieldErrors {
  const out: FieldErrors = { '': error.message };
  for (const part of error.fields) {
    const name = /^([A-Za-z.]+)/.exec(part)?.[1] ?? '';
    const field = ['length', 'validitySeconds', 'maxAttempts'].includes(name)
      ? `passcode.${name}`
      : `security.${name}`;
    if (field in SETTING_OF) out[field] ??= `${part}.`;
  }
  return out;
}

export function securityPages(deps: TenantPagesDeps) {
  const app = new Hono<ConsoleEnv>();

  const page = async (
    c: ConsoleContext,
    errors: FieldErrors = {},
    posted?: Record<string, string>,
    saved = false,
  ) => {
    const view = await deps.settings.view(tenantOf(c));
    const settings = view.settings as unknown as Record<string, Resolved>;
    const write = canWrite(c);
    const current = (field: string) => settings[SETTING_OF[field]!];
    const shownValue = (field: string) => {
      if (posted && field in posted) return posted[field];
      const v = current(field)?.value;
      return v === null || v === undefined ? '' : String(v);
    };
    const hintOf = (field: string, unit?: string) => {
      const s = current(field);
      const from = s ? (FROM_LABEL[s.from] ?? s.from) : '';
      return [unit && `In ${unit}.`, from && `Now: ${from}.`, boundOf(field, view)].filter(Boolean).join(' ');
    };
    const numberField = (f: { field: string; label: string; unit?: string }) => (
      <Field
        name={f.field}
        label={f.label}
        type="number"
        inputmode="numeric"
        value={shownValue(f.field)}
        hint={hintOf(f.field, f.unit)}
        errors={errors}
        readonly={!write}
      />
    );
    const checked = (field: string) => (posted ? posted[field] === 'on' : current(field)?.value === true);
    const countries = current('security.allowedCountries')?.value as string[];
    const chosenCountries = posted
      ? new Set(
          Object.keys(posted)
            .filter((k) => k.startsWith('country.'))
            .map((k) => k.slice(8)),
        )
      : new Set(countries);
    const bounds = boundsOf(view);
    return consolePage(
      c,
      'Security settings',
      <>
        {saved && <Notice kind="ok">Saved.</Notice>}
        {errors[''] && <Notice kind="error">{errors['']}</Notice>}
        <p>
          The tenant's defaults for every login, within the bounds the operator set. Group policies and users
          may change single passcode settings; everything else here applies to the whole tenant.
        </p>
        <PostForm action="/admin/security" csrf={csrfOf(c)}>
          <fieldset>
            <legend>Passcode</legend>
            {NUMBERS.map(numberField)}
            <Select
              name="passcode.alphabet"
              label="Characters"
              value={shownValue('passcode.alphabet')}
              errors={errors}
              hint={hintOf('passcode.alphabet')}
              options={[
                { value: 'numeric', label: 'Digits' },
                { value: 'alphanumeric', label: 'Letters and digits' },
                { value: 'memo', label: 'Easy to remember (letters and digits, no look-alikes)' },
              ]}
            />
            <Field
              name="messageTemplate"
              label="Message"
              value={shownValue('messageTemplate')}
              hint="Must contain {code}; {minutes}, {ip} and {client} are filled in too."
              errors={errors}
              readonly={!write}
            />
            <Field
              name="webOtpOrigin"
              label="Login page host for origin-bound codes (optional)"
              value={shownValue('webOtpOrigin')}
              hint="e.g. login.example.com: the SMS ends with @login.example.com #123456, which browsers offer only there. Empty: off."
              errors={errors}
              readonly={!write}
            />
          </fieldset>
          <fieldset>
            <legend>Personal passcodes and client binding</legend>
            <Checkbox
              name="security.allowPersonalPasscode"
              label="Accept personal passcodes at login"
              checked={checked('security.allowPersonalPasscode')}
            />
            <p class="hint">{hintOf('security.allowPersonalPasscode')}</p>
            <FieldError
              id="f-security-allowPersonalPasscode-error"
              message={errors['security.allowPersonalPasscode']}
            />
            <Checkbox
              name="security.bindClientIp"
              label="A passcode is good only from the client IP it was asked for from"
              checked={checked('security.bindClientIp')}
            />
          </fieldset>
          <fieldset>
            <legend>Lockout</legend>
            {LOCKOUT.map(numberField)}
          </fieldset>
          <fieldset>
            <legend>Rate limits</legend>
            {LIMITS.map(numberField)}
          </fieldset>
          <fieldset>
            <legend>Countries passcodes may be sent to</legend>
            <p class="hint">
              {current('security.allowedCountries')?.from === 'tenant'
                ? 'Now: chosen by this tenant.'
                : 'Now: every country the operator allows.'}{' '}
              Only the operator's countries can be chosen.
            </p>
            {view.operatorAllowedCountries.map((country) => (
              <Checkbox name={`country.${country}`} label={country} checked={chosenCountries.has(country)} />
            ))}
            <FieldError
              id="f-security-allowedCountries-error"
              message={errors['security.allowedCountries']}
            />
          </fieldset>
          {write && (
            <div class="actions">
              <button type="submit">Save settings</button>
            </div>
          )}
        </PostForm>
        <h2 id="h-ceilings">The operator's bounds</h2>
        {bounds.length === 0 ? (
          <p>
            <Badge tone="muted">none</Badge> The operator set no bounds beyond the product's own limits.
          </p>
        ) : (
          <Table caption="The operator's bounds" head={['Setting', 'Bound']}>
            {bounds.map(([label, bound]) => (
              <tr>
                <td>{label}</td>
                <td>{bound}</td>
              </tr>
            ))}
          </Table>
        )}
      </>,
      Object.keys(errors).length > 0 ? 422 : 200,
    );
  };

  app.get('/', (c) => page(c));

  app.post('/', async (c) => {
    const form = await formOf(c);
    const view = await deps.settings.view(tenantOf(c));
    const settings = view.settings as unknown as Record<string, Resolved>;
    const changed = (field: string, value: unknown) =>
      JSON.stringify(settings[SETTING_OF[field]!]?.value ?? null) !== JSON.stringify(value);
    // Only what differs from the values in force: a default left alone stays a default.
    const patch: Record<string, Record<string, unknown> | unknown> = {};
    const put = (path: string, value: unknown) => {
      const parts = path.split('.');
      let at = patch as Record<string, unknown>;
      for (const part of parts.slice(0, -1)) {
        at[part] ??= {};
        at = at[part] as Record<string, unknown>;
      }
      at[parts.at(-1)!] = value;
    };
    for (const { field } of [...NUMBERS, ...LOCKOUT, ...LIMITS]) {
      const raw = (form[field] ?? '').trim();
      const value = numberOf(raw);
      if (raw !== '' && changed(field, value)) put(field, value);
    }
    if (form['passcode.alphabet'] && changed('passcode.alphabet', form['passcode.alphabet']))
      put('passcode.alphabet', form['passcode.alphabet']);
    const template = form.messageTemplate ?? '';
    if (template.trim() && changed('messageTemplate', template)) put('messageTemplate', template);
    const host = (form.webOtpOrigin ?? '').trim();
    if (changed('webOtpOrigin', host || null)) put('webOtpOrigin', host || null);
    for (const flag of ['security.allowPersonalPasscode', 'security.bindClientIp']) {
      const on = form[flag] === 'on';
      if (changed(flag, on)) put(flag, on);
    }
    const countries = view.operatorAllowedCountries.filter((country) => form[`country.${country}`] === 'on');
    if (changed('security.allowedCountries', countries)) put('security.allowedCountries', countries);

    const parsed = TenantSettingsUpdate.safeParse(patch);
    if (!parsed.success) {
      const errors = zodErrors(parsed.error);
      if (errors['security.allowedCountries'] === undefined && countries.length === 0)
        errors['security.allowedCountries'] = 'Choose at least one country.';
      return page(c, errors, form);
    }
    if (Object.keys(parsed.data).length === 0) return page(c, {}, undefined, true);
    try {
      await deps.settings.update(tenantOf(c), actorOf(c), parsed.data);
    } catch (error) {
      if (error instanceof AboveCeilingError) return page(c, ceilingErrors(error), form);
      if (error instanceof DomainError && error.code === 'weak_passcode')
        return page(c, { '': error.message, 'passcode.length': error.message }, form);
      return page(c, domainErrors(error), form);
    }
    return page(c, {}, undefined, true);
  });
  return app;
}
