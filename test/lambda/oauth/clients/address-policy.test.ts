import { addressProblem, isPublicAddress } from '../../../../lambda/oauth/clients/address-policy.js';

describe('addressProblem', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'unique local'],
    ['fd00:ec2::254', 'unique local'],
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.254', 'carrier-grade NAT'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:7f00:1', 'loopback'],
    ['::127.0.0.1', 'address'],
    ['::8.8.8.8', 'IPv4-compatible'],
    ['64:ff9b::a9fe:a9fe', 'special-purpose (rfc6052)'],
    ['2002:a9fe:a9fe::1', 'special-purpose (6to4)'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'special-purpose (teredo)'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
  ])('refuses %s (%s)', (address, kind) => {
    // Act
    const problem = addressProblem(address);

    // Assess
    expect(problem).toContain(kind);
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
  ])('allows the public address %s', (address) => {
    expect(addressProblem(address)).toBeUndefined();
    expect(isPublicAddress(address)).toBe(true);
  });

  it.each(['localhost', 'example.com', '0x7f000001', '127.1', '', '1.2.3.4.5', '::ffff:127.0.0.1%eth0'])(
    'refuses %j, which is not an IP address in canonical form',
    (value) => {
      expect(addressProblem(value)).toMatch(/is not an IP address/);
    },
  );
});
