import {
  newKeyMaterial,
  parseKeyRing,
  UpstreamTokenCipher,
  UpstreamTokenDecryptError,
  UpstreamTokenKeyError,
} from '../../../../lambda/oauth/login/upstream-token-cipher.js';

const TOKEN = 'upstream-refresh-token-value';

describe('UpstreamTokenCipher', () => {
  it('encrypts with a fresh IV under the current key id and decrypts for the same user', async () => {
    // Prepare
    const cipher = new UpstreamTokenCipher(async () => newKeyMaterial('k1'));

    // Act
    const sealed = await cipher.encrypt(TOKEN, 'user-1');
    const again = await cipher.encrypt(TOKEN, 'user-1');

    // Assess
    expect(sealed.startsWith('v1.k1.')).toBe(true);
    expect(sealed).not.toContain(TOKEN);
    expect(again).not.toBe(sealed);
    await expect(cipher.decrypt(sealed, 'user-1')).resolves.toBe(TOKEN);
  });

  it("refuses a ciphertext moved onto another user's grant, or altered", async () => {
    // Prepare
    const cipher = new UpstreamTokenCipher(async () => newKeyMaterial());
    const sealed = await cipher.encrypt(TOKEN, 'user-1');
    const parts = sealed.split('.');
    parts[3] = Buffer.from('x'.repeat(TOKEN.length)).toString('base64url');

    // Act / Assess
    await expect(cipher.decrypt(sealed, 'user-2')).rejects.toBeInstanceOf(UpstreamTokenDecryptError);
    await expect(cipher.decrypt(parts.join('.'), 'user-1')).rejects.toBeInstanceOf(UpstreamTokenDecryptError);
    await expect(cipher.decrypt('not a ciphertext', 'user-1')).rejects.toBeInstanceOf(
      UpstreamTokenDecryptError,
    );
  });

  it('rotates: a new current key encrypts, the old one still decrypts, and a key id not yet known re-reads the keys', async () => {
    // Prepare
    const k1 = JSON.parse(newKeyMaterial('k1')) as Record<string, string>;
    let material = JSON.stringify(k1);
    const cipher = new UpstreamTokenCipher(async () => material);
    const old = await cipher.encrypt(TOKEN, 'user-1');
    const other = new UpstreamTokenCipher(async () => material);

    // Act: the operator adds k2 and makes it current.
    material = JSON.stringify({ ...k1, current: 'k2', k2: JSON.parse(newKeyMaterial('k2')).k2 });
    const rotatedWriter = new UpstreamTokenCipher(async () => material);
    const fresh = await rotatedWriter.encrypt(TOKEN, 'user-1');

    // Assess
    expect(fresh.startsWith('v1.k2.')).toBe(true);
    await expect(rotatedWriter.decrypt(old, 'user-1')).resolves.toBe(TOKEN);
    // `other` cached the key ring before k2 existed: it reads it again when it meets k2.
    await expect(other.decrypt(old, 'user-1')).resolves.toBe(TOKEN);
    await expect(other.decrypt(fresh, 'user-1')).resolves.toBe(TOKEN);
  });

  it.each([
    ['not JSON', 'the upstream token key is not JSON'],
    ['[]', 'must be a JSON object'],
    ['{"current":"k9","k1":"' + 'a'.repeat(40) + '"}', 'no "current" key id'],
    ['{"current":"k1","k1":"short"}', 'at least 32 characters'],
    ['{"current":"k 1","k 1":"' + 'a'.repeat(40) + '"}', 'key id "k 1" is invalid'],
  ])('refuses the key material %s without quoting a key', (text, message) => {
    // Act
    const act = () => parseKeyRing(text);

    // Assess
    expect(act).toThrow(UpstreamTokenKeyError);
    expect(act).toThrow(message);
  });

  it('passes a key source failure on, and reads the source again at the next use', async () => {
    // Prepare
    let calls = 0;
    const cipher = new UpstreamTokenCipher(async () => {
      calls += 1;
      if (calls === 1) throw new Error('Secrets Manager unavailable');
      return newKeyMaterial();
    });

    // Act / Assess
    await expect(cipher.encrypt(TOKEN, 'user-1')).rejects.toThrow('Secrets Manager unavailable');
    await expect(cipher.encrypt(TOKEN, 'user-1')).resolves.toMatch(/^v1\.k1\./);
  });
});
