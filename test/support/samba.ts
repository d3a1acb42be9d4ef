/**
 * A real Active Directory for tests: Debian's Samba AD DC, provisioned into a private folder and started by this
 * process on a loopback address of its own, stopped by its PID.
 *
 * Samba's LDAP ports (389, 636) are fixed, so each DC takes its own 127.0.0.N. An address is claimed with an
 * exclusive lock file under the temp folder (shared by every vitest worker and every worktree on the machine)
 * and then probed by binding both ports, so parallel test files and other test runs never pick the same one.
 *
 * Provisioning takes several seconds, so one provisioned template is kept per realm and Samba version and copied
 * for each DC. A copy is a valid DC: the provisioned databases hold no absolute paths (sam.ldb names its
 * partitions relative to itself), and the only file that does, `etc/smb.conf`, is rewritten for the copy. Each
 * copy keeps the template's domain SID and objectGUIDs, which is harmless for DCs that never meet each other.
 *
 * `startSambaDc()` is meant for the other suites too (the RADIUS front, the portal): it returns the LDAP and
 * LDAPS URLs, the CA to trust, the base DN and the administrator's credentials, and helpers to populate it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Attribute, Change, Client } from 'ldapts';

const run = promisify(execFile);

export const SAMBA = '/usr/sbin/samba';
export const SAMBA_TOOL = '/usr/bin/samba-tool';
export const LDBMODIFY = '/usr/bin/ldbmodify';
export const SAMBA_INSTALL =
  'DEBIAN_FRONTEND=noninteractive apt-get install -y samba winbind krb5-user ldb-tools smbclient';
export const haveSamba = [SAMBA, SAMBA_TOOL, LDBMODIFY, '/usr/bin/openssl'].every((f) => existsSync(f));
/** Why the Samba suites skip, or undefined when they can run. */
export const sambaSkipReason = haveSamba
  ? undefined
  : `Samba AD DC not installed: install it with "${SAMBA_INSTALL}"`;

/**
 * For a test file's top level: prints why Samba tests skip, or, with REQUIRE_PEERS=1, registers a failing test.
 * Returns true when the suite can run.
 */
export function sambaAvailable(register: (name: string, fn: () => void) => void): boolean {
  if (!sambaSkipReason) return true;
  if (process.env.REQUIRE_PEERS === '1')
    register('has Samba installed (REQUIRE_PEERS=1)', () => {
      throw new Error(sambaSkipReason);
    });
  else console.warn(`skipping Samba AD tests: ${sambaSkipReason}`);
  return false;
}

/** The administrator's password of every test DC (they only ever listen on loopback). */
export const ADMIN_PASSWORD = 'Adm1n-Pass!2026';

export interface SambaUserSpec {
  /** sAMAccountName; the CN too unless `cn` is given. */
  name: string;
  cn?: string;
  /** Relative to the base DN; default `CN=Users`. */
  container?: string;
  password?: string;
  mobile?: string;
  mail?: string;
  displayName?: string;
  upn?: string;
  disabled?: boolean;
  /** Any other single-valued attributes, e.g. `{ otherMobile: '+45…' }`. */
  attributes?: Record<string, string>;
}

export interface SambaGroupSpec {
  name: string;
  container?: string;
  /** sAMAccountNames of users, or names of groups in this spec, or full DNs. */
  members?: string[];
}

export interface SambaDcOptions {
  realm?: string;
  /** NetBIOS domain name. */
  domain?: string;
  users?: SambaUserSpec[];
  groups?: SambaGroupSpec[];
}

export interface SambaDc {
  /** `ldap://127.0.0.N` (plain LDAP, StartTLS capable). */
  url: string;
  /** `ldaps://127.0.0.N`. */
  ldapsUrl: string;
  address: string;
  realm: string;
  /** The DNS name of the domain, e.g. corp.example.test. */
  dnsDomain: string;
  netbios: string;
  baseDn: string;
  adminDn: string;
  adminPassword: string;
  /** The CA that signed the DC's certificate (which names 127.0.0.N and dc1.<realm>). */
  caPem: string;
  caFile: string;
  dir: string;
  pid: number;
  userDn(name: string, container?: string): string;
  groupDn(name: string, container?: string): string;
  addUsers(users: SambaUserSpec[]): Promise<string[]>;
  addGroups(groups: SambaGroupSpec[]): Promise<string[]>;
  addMembers(groupDn: string, memberDns: string[]): Promise<void>;
  setAttributes(dn: string, attributes: Record<string, string | null>): Promise<void>;
  disableUser(dn: string): Promise<void>;
  addComputer(name: string, groups?: string[]): Promise<string>;
  addContact(cn: string, attributes?: Record<string, string>, groups?: string[]): Promise<string>;
  /** Applies an LDIF (with changetype lines) straight to the DC's database with ldbmodify: the fast path. */
  ldif(text: string): Promise<void>;
  /**
   * Adds many entries at once, for benchmarks: Samba is stopped, the LDIF's entries (separated by blank lines,
   * `changetype: add` optional) go straight into sam.ldb with ldbmodify in transactions of `chunk` entries
   * (default 500), and Samba is started again. A transaction's cost grows with the square of its size: one
   * ldbmodify of 10,000 users did not finish in 15 minutes, while 2,000 cost four times the CPU of 1,000.
   */
  bulkAdd(text: string, options?: { chunk?: number }): Promise<void>;
  /** An administrator's connection over LDAPS, bound; close it with unbind(). */
  adminClient(): Promise<Client>;
  /** Stops Samba (SIGTERM, then SIGKILL) and removes its folder. */
  stop(): Promise<void>;
}

const realmDn = (dnsDomain: string) =>
  dnsDomain
    .split('.')
    .map((p) => `DC=${p}`)
    .join(',');

/** RFC 4514 escaping of one RDN value. */
export function escapeRdn(value: string): string {
  let out = value.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`);
  if (out.startsWith(' ') || out.startsWith('#')) out = `\\${out}`;
  if (out.endsWith(' ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** `unicodePwd`: the password in double quotes, UTF-16LE. */
export const unicodePwd = (password: string) => Buffer.from(`"${password}"`, 'utf16le');

async function sambaVersion(): Promise<string> {
  const { stdout } = await run(SAMBA, ['-V']);
  return stdout.trim().replace(/[^A-Za-z0-9.-]+/g, '_');
}

/** One provisioned DC per realm and Samba version, built once and copied for each instance. */
async function template(realm: string, netbios: string): Promise<string> {
  const base = path.join(tmpdir(), 'smspass-samba');
  await mkdir(base, { recursive: true });
  const dir = path.join(base, `template-${await sambaVersion()}-${realm}-${netbios}`);
  if (existsSync(path.join(dir, 'etc', 'smb.conf'))) return dir;
  // Built aside and renamed into place: parallel files that race here each build one, and one of them wins.
  const work = await mkdtemp(path.join(base, 'provision-'));
  try {
    const empty = path.join(work, 'empty.conf');
    await writeFile(empty, '');
    await run(
      SAMBA_TOOL,
      [
        'domain',
        'provision',
        '-s',
        empty,
        `--targetdir=${work}`,
        `--realm=${realm}`,
        `--domain=${netbios}`,
        '--host-name=dc1',
        '--server-role=dc',
        '--dns-backend=NONE',
        `--adminpass=${ADMIN_PASSWORD}`,
        '--use-rfc2307',
        '--option=interfaces = 127.0.0.1/8',
        '--option=bind interfaces only = yes',
        '--option=server services = ldap, cldap, kdc',
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    // the copies rewrite the template's own folder in smb.conf, so it must name its final place
    const conf = path.join(work, 'etc', 'smb.conf');
    await writeFile(conf, (await readFile(conf, 'utf8')).split(work).join(dir));
    try {
      await rename(work, dir);
    } catch (err) {
      if (!existsSync(path.join(dir, 'etc', 'smb.conf'))) throw err;
    }
  } finally {
    if (existsSync(work)) await rm(work, { recursive: true, force: true });
  }
  return dir;
}

const LOCK_DIR = path.join(tmpdir(), 'smspass-samba', 'addresses');

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Takes the lock file of one address; a lock left by a dead process is taken over. */
function tryLock(address: string): string | undefined {
  const file = path.join(LOCK_DIR, `${address}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = 0;
      try {
        owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
      } catch {
        continue;
      }
      if (owner > 0 && alive(owner)) return undefined;
      try {
        unlinkSync(file);
      } catch {
        // another process took it over first
      }
    }
  }
  return undefined;
}

async function portFree(address: string, port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A loopback address whose LDAP ports no one uses, locked for this process until `release`. */
async function claimAddress(): Promise<{ address: string; release(): void }> {
  await mkdir(LOCK_DIR, { recursive: true });
  // 127.0.0.1 is left to everything else; a random start spreads parallel claimants out.
  const first = 10 + (randomBytes(1)[0]! % 200);
  for (let i = 0; i < 240; i++) {
    const n = 10 + ((first - 10 + i) % 240);
    const address = `127.0.0.${n}`;
    const lock = tryLock(address);
    if (!lock) continue;
    if ((await portFree(address, 389)) && (await portFree(address, 636)))
      return {
        address,
        release: () => {
          try {
            unlinkSync(lock);
          } catch {
            // already gone
          }
        },
      };
    unlinkSync(lock);
  }
  throw new Error('no free loopback address for a Samba DC');
}

async function makeCertificate(dir: string, address: string, dnsName: string) {
  const tls = path.join(dir, 'test-tls');
  await mkdir(tls, { recursive: true });
  const f = (n: string) => path.join(tls, n);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=smspass test AD CA',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
  ]);
  await run('openssl', [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    `/CN=${dnsName}`,
    '-keyout',
    f('key.pem'),
    '-out',
    f('dc.csr'),
  ]);
  await writeFile(f('ext.cnf'), `subjectAltName=IP:${address},DNS:${dnsName}\n`);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    f('dc.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
    '-out',
    f('cert.pem'),
  ]);
  // Samba refuses a key file others can read
  await chmod(f('key.pem'), 0o600);
  return { key: f('key.pem'), cert: f('cert.pem'), ca: f('ca.pem') };
}

async function waitForLdap(url: string, child: ChildProcess, logFile: string, adminDn: string) {
  const deadline = Date.now() + 60_000;
  let last: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      throw new Error(`samba exited (${child.exitCode ?? child.signalCode}):\n${log.slice(-2000)}`);
    }
    const client = new Client({ url, connectTimeout: 1000, timeout: 5000 });
    try {
      await client.bind(adminDn, ADMIN_PASSWORD);
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 150));
    } finally {
      await client.unbind().catch(() => {});
    }
  }
  throw new Error(`samba did not answer on ${url}: ${(last as Error)?.message}`);
}

const live = new Set<SambaDc>();
process.once('exit', () => {
  // a test process that ends without stop() must not leave DCs holding their addresses
  for (const dc of live) {
    try {
      process.kill(dc.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

export async function startSambaDc(options: SambaDcOptions = {}): Promise<SambaDc> {
  if (sambaSkipReason) throw new Error(sambaSkipReason);
  const realm = (options.realm ?? 'CORP.EXAMPLE.TEST').toUpperCase();
  const netbios = (options.domain ?? realm.split('.')[0]!).toUpperCase();
  const dnsDomain = realm.toLowerCase();
  const baseDn = realmDn(dnsDomain);
  const adminDn = `CN=Administrator,CN=Users,${baseDn}`;
  const source = await template(realm, netbios);

  const claim = await claimAddress();
  const { address } = claim;
  let child: ChildProcess | undefined;
  const dir = await mkdtemp(path.join(tmpdir(), 'smspass-samba-dc-'));
  try {
    await cp(source, dir, { recursive: true });
    const tls = await makeCertificate(dir, address, `dc1.${dnsDomain}`);
    const conf = path.join(dir, 'etc', 'smb.conf');
    let text = (await readFile(conf, 'utf8')).split(source).join(dir);
    text = text.replace(/^\s*interfaces = .*$/m, `\tinterfaces = ${address}/8`);
    const extra = [
      // a reset takes effect at once: the old password must stop working right away
      'old password allowed period = 0',
      // lets the plain-LDAP test (allowPlainLdap) bind; TLS stays the default everywhere else
      'ldap server require strong auth = no',
      'tls enabled = yes',
      `tls keyfile = ${tls.key}`,
      `tls certfile = ${tls.cert}`,
      `tls cafile = ${tls.ca}`,
      // each DC keeps its PID file and sockets in its own folder, or a second one refuses to start
      `pid directory = ${path.join(dir, 'run')}`,
      `ncalrpc dir = ${path.join(dir, 'ncalrpc')}`,
      `winbindd socket directory = ${path.join(dir, 'winbindd')}`,
      `ntp signd socket directory = ${path.join(dir, 'ntp_signd')}`,
    ];
    text = text.replace(/^\[global\]$/m, `[global]\n${extra.map((l) => `\t${l}`).join('\n')}`);
    await writeFile(conf, text);
    await mkdir(path.join(dir, 'run'), { recursive: true });

    const logFile = path.join(dir, 'samba.log');
    const spawnSamba = () => {
      const out = openSync(logFile, 'a');
      const started = spawn(SAMBA, ['-F', '-M', 'single', '-s', conf, '--debug-stdout'], {
        stdio: ['ignore', out, out],
      });
      closeSync(out);
      return started;
    };
    const url = `ldap://${address}`;
    const ldapsUrl = `ldaps://${address}`;
    child = spawnSamba();
    await waitForLdap(url, child, logFile, adminDn);
    const caPem = await readFile(tls.ca, 'utf8');
    let proc = child;
    const halt = async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const late = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(late);
    };

    const adminClient = async () => {
      const c = new Client({ url: ldapsUrl, tlsOptions: { ca: caPem } });
      await c.bind(adminDn, ADMIN_PASSWORD);
      return c;
    };
    const withAdmin = async <T>(fn: (c: Client) => Promise<T>) => {
      const c = await adminClient();
      try {
        return await fn(c);
      } finally {
        await c.unbind().catch(() => {});
      }
    };
    const userDn = (name: string, container = 'CN=Users') => `CN=${escapeRdn(name)},${container},${baseDn}`;
    const groupDn = userDn;
    const resolveMember = (m: string, known: Map<string, string>) =>
      /^(CN|OU)=/i.test(m) ? m : (known.get(m) ?? userDn(m));

    let stopped: Promise<void> | undefined;
    const dc: SambaDc = {
      url,
      ldapsUrl,
      address,
      realm,
      dnsDomain,
      netbios,
      baseDn,
      adminDn,
      adminPassword: ADMIN_PASSWORD,
      caPem,
      caFile: tls.ca,
      dir,
      pid: proc.pid!,
      userDn,
      groupDn,
      addUsers: (users) =>
        withAdmin(async (c) => {
          const dns: string[] = [];
          for (const u of users) {
            const dn = userDn(u.cn ?? u.name, u.container);
            const attrs: Record<string, string | string[] | Buffer> = {
              objectClass: ['top', 'person', 'organizationalPerson', 'user'],
              sAMAccountName: u.name,
              userPrincipalName: u.upn ?? `${u.name}@${dnsDomain}`,
              ...(u.mobile && { mobile: u.mobile }),
              ...(u.mail && { mail: u.mail }),
              ...(u.displayName && { displayName: u.displayName }),
              ...u.attributes,
            };
            if (u.password) attrs.unicodePwd = unicodePwd(u.password);
            // 512 a normal account, 514 a disabled one; without a password the account needs PASSWD_NOTREQD
            attrs.userAccountControl = String((u.disabled ? 514 : 512) | (u.password ? 0 : 32));
            await c.add(
              dn,
              Object.entries(attrs).map(
                ([type, v]) =>
                  new Attribute({ type, values: Array.isArray(v) ? v : Buffer.isBuffer(v) ? [v] : [v] }),
              ),
            );
            dns.push(dn);
          }
          return dns;
        }),
      addGroups: (groups) =>
        withAdmin(async (c) => {
          const known = new Map<string, string>();
          for (const g of groups) known.set(g.name, groupDn(g.name, g.container));
          for (const g of groups)
            await c.add(known.get(g.name)!, {
              objectClass: ['top', 'group'],
              // sAMAccountName allows none of "/\[]:;|=,+*?<> (the CN may hold them)
              sAMAccountName: g.name.replace(/["/\\[\]:;|=,+*?<>]/g, '_').slice(0, 64),
            });
          for (const g of groups)
            if (g.members?.length)
              await c.modify(
                known.get(g.name)!,
                new Change({
                  operation: 'add',
                  modification: new Attribute({
                    type: 'member',
                    values: g.members.map((m) => resolveMember(m, known)),
                  }),
                }),
              );
          return [...known.values()];
        }),
      addMembers: (group, members) =>
        withAdmin((c) =>
          c.modify(
            group,
            new Change({
              operation: 'add',
              modification: new Attribute({ type: 'member', values: members }),
            }),
          ),
        ),
      setAttributes: (dn, attributes) =>
        withAdmin((c) =>
          c.modify(
            dn,
            Object.entries(attributes).map(
              ([type, value]) =>
                new Change({
                  operation: value === null ? 'delete' : 'replace',
                  modification: new Attribute({ type, values: value === null ? [] : [value] }),
                }),
            ),
          ),
        ),
      disableUser: (dn) => dc.setAttributes(dn, { userAccountControl: '514' }),
      addComputer: (name, groups = []) =>
        withAdmin(async (c) => {
          const dn = `CN=${escapeRdn(name)},CN=Computers,${baseDn}`;
          await c.add(dn, {
            objectClass: ['top', 'person', 'organizationalPerson', 'user', 'computer'],
            sAMAccountName: `${name}$`,
            userAccountControl: '4096',
            mobile: '+4520999999',
          });
          for (const g of groups)
            await c.modify(
              g,
              new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [dn] }) }),
            );
          return dn;
        }),
      addContact: (cn, attributes = {}, groups = []) =>
        withAdmin(async (c) => {
          const dn = `CN=${escapeRdn(cn)},CN=Users,${baseDn}`;
          await c.add(dn, {
            objectClass: ['top', 'person', 'organizationalPerson', 'contact'],
            ...attributes,
          });
          for (const g of groups)
            await c.modify(
              g,
              new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [dn] }) }),
            );
          return dn;
        }),
      async ldif(text) {
        const file = path.join(dir, `import-${randomBytes(4).toString('hex')}.ldif`);
        await writeFile(file, text);
        try {
          await run(
            LDBMODIFY,
            [`--configfile=${conf}`, '--nosync', '-H', path.join(dir, 'private', 'sam.ldb'), file],
            {
              maxBuffer: 64 * 1024 * 1024,
            },
          );
        } finally {
          await rm(file, { force: true });
        }
      },
      async bulkAdd(text, options = {}) {
        const chunk = options.chunk ?? 500;
        const entries = text.split(/\n\s*\n/).filter((e) => e.trim() !== '');
        await halt();
        try {
          for (let i = 0; i < entries.length; i += chunk) {
            const file = path.join(dir, `bulk-${randomBytes(4).toString('hex')}.ldif`);
            const adds = entries
              .slice(i, i + chunk)
              .map((e) => (/^changetype:/m.test(e) ? e : e.replace(/^(dn: .*)$/m, '$1\nchangetype: add')));
            await writeFile(file, `${adds.join('\n\n')}\n`);
            try {
              await run(
                LDBMODIFY,
                [`--configfile=${conf}`, '--nosync', '-H', path.join(dir, 'private', 'sam.ldb'), file],
                { maxBuffer: 64 * 1024 * 1024 },
              );
            } finally {
              await rm(file, { force: true });
            }
          }
        } finally {
          proc = spawnSamba();
          dc.pid = proc.pid!;
          await waitForLdap(url, proc, logFile, adminDn);
        }
      },
      adminClient,
      stop() {
        stopped ??= (async () => {
          live.delete(dc);
          await halt();
          claim.release();
          await rm(dir, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
    live.add(dc);
    if (options.groups?.length || options.users?.length) {
      if (options.users?.length) await dc.addUsers(options.users);
      if (options.groups?.length) await dc.addGroups(options.groups);
    }
    return dc;
  } catch (err) {
    if (child && child.exitCode === null) {
      const exited = new Promise<void>((r) => child!.once('exit', () => r()));
      child.kill('SIGKILL');
      await exited;
    }
    claim.release();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
