import { isBlockedClient, parseBlockedClients } from '../../../lambda/shared/blocked-clients.js';

describe('blocked client metadata documents', () => {
  it('blocks a listed document URL exactly, and every document of a listed host in any case', () => {
    // Prepare
    const blocked = parseBlockedClients(
      ' https://app.example.com/oauth/client.json , Evil.Example.NET ',
      'BLOCKED_CLIENT_METADATA_DOCUMENTS',
    );

    // Act & Assess
    expect(blocked).toEqual({
      urls: ['https://app.example.com/oauth/client.json'],
      hosts: ['evil.example.net'],
    });
    expect(isBlockedClient('https://app.example.com/oauth/client.json', blocked)).toBe(true);
    expect(isBlockedClient('https://app.example.com/oauth/other.json', blocked)).toBe(false);
    expect(isBlockedClient('https://evil.example.net/any/path.json', blocked)).toBe(true);
    expect(isBlockedClient('https://EVIL.example.net/x.json', blocked)).toBe(true);
    expect(isBlockedClient('https://not-evil.example.net/x.json', blocked)).toBe(false);
  });

  it('never blocks a registered client, whose id is not a URL', () => {
    // Prepare
    const blocked = parseBlockedClients('app.example.com', 'X');

    // Act & Assess
    expect(isBlockedClient('app.example.com', blocked)).toBe(false);
    expect(isBlockedClient('k3Jd8sL0aQ', blocked)).toBe(false);
  });

  it('blocks nothing when empty', () => {
    // Act & Assess
    expect(parseBlockedClients(undefined, 'X')).toEqual({ urls: [], hosts: [] });
    expect(isBlockedClient('https://app.example.com/c.json', parseBlockedClients('', 'X'))).toBe(false);
  });

  it.each([
    ['ftp://app.example.com/c.json', 'a client metadata document URL is https'],
    ['https://', 'is not a URL'],
    ['localhost', 'neither a document URL'],
    ['app example.com', 'neither a document URL'],
    ['*.example.com', 'neither a document URL'],
  ])('refuses "%s" with a message naming it', (entry, message) => {
    // Act
    const parse = () => parseBlockedClients(entry, 'BLOCKED_CLIENT_METADATA_DOCUMENTS');

    // Assess
    expect(parse).toThrow(message);
    expect(parse).toThrow(`BLOCKED_CLIENT_METADATA_DOCUMENTS has "${entry}"`);
  });
});
