/**
 * PSKC documents for the token suites: RFC 6030 Figure 2 (a plain HOTP seed) and Figure 6 (the same kind of
 * key encrypted with the pre-shared transport key 12345678901234567890123456789012, AES-128-CBC with an
 * HMAC-SHA1 ValueMAC), as the RFC prints them, plus a builder for documents of our own.
 */
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';

export const FIGURE_2 = `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0"
    Id="exampleID1"
    xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
    <KeyPackage>
        <Key Id="12345678"
            Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
            <Issuer>Issuer-A</Issuer>
            <Data>
                <Secret>
                    <PlainValue>MTIzNA==
                    </PlainValue>
                </Secret>
            </Data>
        </Key>
    </KeyPackage>
</KeyContainer>
`;

export const FIGURE_6_KEY = '12345678901234567890123456789012';
export const FIGURE_6 = `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0"
    xmlns="urn:ietf:params:xml:ns:keyprov:pskc"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">
    <EncryptionKey>
        <ds:KeyName>Pre-shared-key</ds:KeyName>
    </EncryptionKey>
    <MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1">
        <MACKey>
            <xenc:EncryptionMethod
            Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
            <xenc:CipherData>
                <xenc:CipherValue>
    ESIzRFVmd4iZABEiM0RVZgKn6WjLaTC1sbeBMSvIhRejN9vJa2BOlSaMrR7I5wSX
                </xenc:CipherValue>
            </xenc:CipherData>
        </MACKey>
    </MACMethod>
    <KeyPackage>
        <DeviceInfo>
            <Manufacturer>Manufacturer</Manufacturer>
            <SerialNo>987654321</SerialNo>
        </DeviceInfo>
        <CryptoModuleInfo>
            <Id>CM_ID_001</Id>
        </CryptoModuleInfo>
        <Key Id="12345678"
            Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
            <Issuer>Issuer</Issuer>
            <AlgorithmParameters>
                <ResponseFormat Length="8" Encoding="DECIMAL"/>
            </AlgorithmParameters>
            <Data>
                <Secret>
                    <EncryptedValue>
                        <xenc:EncryptionMethod
            Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
                        <xenc:CipherData>
                            <xenc:CipherValue>
    AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv
                            </xenc:CipherValue>
                        </xenc:CipherData>
                    </EncryptedValue>
                    <ValueMAC>Su+NvtQfmvfJzF6bmQiJqoLRExc=
                    </ValueMAC>
                </Secret>
                <Counter>
                    <PlainValue>0</PlainValue>
                </Counter>
            </Data>
        </Key>
    </KeyPackage>
</KeyContainer>
`;

/** The seed both RFC figures 6 and the RFC 4226 test vectors use. */
export const RFC_SEED = Buffer.from('12345678901234567890');

export interface TestKey {
  serial: string;
  kind?: 'hotp' | 'totp' | string;
  secret?: Buffer;
  digits?: number;
  counter?: number;
  period?: number;
  suite?: string;
}

const ALGORITHM = {
  hotp: 'urn:ietf:params:xml:ns:keyprov:pskc:hotp',
  totp: 'urn:ietf:params:xml:ns:keyprov:pskc#totp',
} as Record<string, string>;

/** A PSKC document of plain or (with `transportKey`) PSK-encrypted keys, as a vendor would ship it. */
export function pskcDocument(keys: TestKey[], options: { transportKey?: Buffer } = {}): string {
  const macKey = randomBytes(20);
  const seal = (plain: Buffer) => {
    const iv = randomBytes(16);
    const cipher = createCipheriv('aes-128-cbc', options.transportKey!, iv);
    return Buffer.concat([iv, cipher.update(plain), cipher.final()]);
  };
  const header = options.transportKey
    ? `<EncryptionKey><ds:KeyName>Pre-shared-key</ds:KeyName></EncryptionKey>
  <MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1"><MACKey>
    <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
    <xenc:CipherData><xenc:CipherValue>${seal(macKey).toString('base64')}</xenc:CipherValue></xenc:CipherData>
  </MACKey></MACMethod>`
    : '';
  const secretXml = (secret: Buffer) => {
    if (!options.transportKey)
      return `<Secret><PlainValue>${secret.toString('base64')}</PlainValue></Secret>`;
    const sealed = seal(secret);
    const mac = createHmac('sha1', macKey).update(sealed).digest('base64');
    return `<Secret><EncryptedValue>
        <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
        <xenc:CipherData><xenc:CipherValue>${sealed.toString('base64')}</xenc:CipherValue></xenc:CipherData>
      </EncryptedValue><ValueMAC>${mac}</ValueMAC></Secret>`;
  };
  const packages = keys.map((k) => {
    const kind = k.kind ?? 'hotp';
    return `<KeyPackage>
    <DeviceInfo><Manufacturer>Acme Tokens</Manufacturer><SerialNo>${k.serial}</SerialNo></DeviceInfo>
    <Key Id="${k.serial}-key" Algorithm="${ALGORITHM[kind] ?? kind}">
      <AlgorithmParameters>${k.suite ? `<Suite>${k.suite}</Suite>` : ''}
        <ResponseFormat Length="${k.digits ?? 6}" Encoding="DECIMAL"/></AlgorithmParameters>
      <Data>${secretXml(k.secret ?? RFC_SEED)}
        ${kind === 'hotp' ? `<Counter><PlainValue>${k.counter ?? 0}</PlainValue></Counter>` : ''}
        ${kind !== 'hotp' ? `<TimeInterval><PlainValue>${k.period ?? 30}</PlainValue></TimeInterval>` : ''}
      </Data>
    </Key>
  </KeyPackage>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"
  xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">
  ${header}
  ${packages.join('\n  ')}
</KeyContainer>`;
}
