import { describe, expect, it } from 'vitest';
import { UsernamePolicy } from '../../../functions/contracts/usernames.ts';
import { canonicalUsername, resolveTyped, type UsernameContext } from '../../../functions/core/usernames.ts';

const domains = { 'corp.example.test': 'CORP', 'sub.corp.example.test': 'SUB' };
const ctx = (policy: unknown): UsernameContext => ({
  usernames: UsernamePolicy.parse(policy),
  adDomains: domains,
});

describe('typed names to canonical ones', () => {
  it('without a policy, maps nothing: the typed name is the stored one', () => {
    expect(resolveTyped({}, 'CORP\\dave')).toEqual({ name: 'CORP\\dave', known: true });
    expect(canonicalUsername({}, { username: 'dave', domain: 'corp.example.test' })).toBe('dave');
  });

  it('in the upn format, reads NetBIOS, UPN and (with a default domain) bare names', () => {
    const c = ctx({
      format: 'upn',
      accept: ['upn', 'netbios', 'sAMAccountName'],
      defaultDomain: 'corp.example.test',
    });
    for (const typed of ['CORP\\dave', 'corp\\dave', 'dave', 'corp.example.test\\dave'])
      expect(resolveTyped(c, typed)).toEqual({ name: 'dave@corp.example.test', known: true });
    expect(resolveTyped(c, 'SUB\\dave')).toEqual({ name: 'dave@sub.corp.example.test', known: true });
    expect(resolveTyped(c, 'Dave@Corp.Example.Test').known).toBe(true);
  });

  it('in the netbios format, reads UPNs of known domains only', () => {
    const c = ctx({ format: 'netbios', accept: ['netbios', 'upn'] });
    expect(resolveTyped(c, 'dave@sub.corp.example.test')).toEqual({ name: 'SUB\\dave', known: true });
    expect(resolveTyped(c, 'corp\\dave')).toEqual({ name: 'CORP\\dave', known: true });
    expect(resolveTyped(c, 'dave@elsewhere.test').known).toBe(false);
    expect(resolveTyped(c, 'dave').known).toBe(false);
  });

  it('refuses malformed forms, forms not accepted, unknown domains and names too long, without throwing', () => {
    const c = ctx({ format: 'upn', accept: ['upn', 'netbios'] });
    for (const typed of [
      'CORP\\',
      '@x',
      'a\\b\\c',
      '\\dave',
      'dave@',
      'a@b@c',
      'CORP\\a@b',
      'NOPE\\dave',
      'dave',
    ])
      expect(resolveTyped(c, typed)).toEqual({ name: typed, known: false });
    expect(resolveTyped(c, `CORP\\${'x'.repeat(400)}`).known).toBe(false);
    const only = ctx({ format: 'upn' });
    expect(resolveTyped(only, 'CORP\\dave').known).toBe(false);
  });

  it('keeps bare sAMAccountNames as typed, and maps qualified forms only when accepted', () => {
    const plain = ctx({ format: 'sAMAccountName' });
    expect(resolveTyped(plain, 'odd@name')).toEqual({ name: 'odd@name', known: true });
    const wide = ctx({ format: 'sAMAccountName', accept: ['sAMAccountName', 'netbios', 'upn'] });
    expect(resolveTyped(wide, 'CORP\\dave')).toEqual({ name: 'dave', known: true });
    expect(resolveTyped(wide, 'dave@corp.example.test')).toEqual({ name: 'dave', known: true });
    expect(resolveTyped(wide, 'dave@evil.test').known).toBe(false);
  });

  it('stores synced users under their canonical names, and refuses names a login could not type back', () => {
    const c = ctx({ format: 'netbios' });
    expect(canonicalUsername(c, { username: 'dave', domain: 'sub.corp.example.test' })).toBe('SUB\\dave');
    // The connector's NetBIOS name wins, once the sync has learned it (it does so before naming users).
    const learned = { ...c, adDomains: { ...domains, 'corp.example.test': 'CORPX' } };
    expect(
      canonicalUsername(learned, { username: 'dave', domain: 'corp.example.test', netbiosDomain: 'corpx' }),
    ).toBe('CORPX\\dave');
    expect(
      canonicalUsername(c, { username: 'dave', domain: 'corp.example.test', netbiosDomain: 'corpx' }),
    ).toBeUndefined();
    expect(canonicalUsername(c, { username: 'a\\b', domain: 'corp.example.test' })).toBeUndefined();
    const upn = ctx({ format: 'upn' });
    expect(canonicalUsername(upn, { username: 'dave', domain: 'Corp.Example.Test' })).toBe(
      'dave@corp.example.test',
    );
    expect(
      canonicalUsername(upn, { username: 'dave', domain: 'corp.example.test', upn: 'd.s@example.com' }),
    ).toBe('d.s@example.com');
  });

  it('refuses policies that cannot work', () => {
    expect(UsernamePolicy.safeParse({ format: 'email' }).success).toBe(false);
    expect(UsernamePolicy.safeParse({ format: 'upn', accept: ['netbios'] }).success).toBe(false);
    expect(UsernamePolicy.safeParse({ format: 'upn', accept: ['upn', 'sAMAccountName'] }).success).toBe(
      false,
    );
    expect(
      UsernamePolicy.parse({ format: 'netbios', netbiosDomains: { corp: 'Corp.Example.Test' } })
        .netbiosDomains,
    ).toEqual({ CORP: 'corp.example.test' });
  });
});
