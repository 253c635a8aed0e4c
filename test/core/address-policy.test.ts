import { describe, expect, it } from 'vitest';
import { isForbiddenAddress } from '../../src/core/webhooks/address-policy.js';

describe('webhook address policy', () => {
  it.each([
    '127.0.0.1', '127.8.9.10', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
    '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fc00::1', 'fd00:ec2::254', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a00:1',
    '64:ff9b::a9fe:a9fe', 'ff02::1', 'not-an-ip',
  ])('when the address is %s, then it is refused', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('when the address is %s, then it is allowed', (address) => {
    expect(isForbiddenAddress(address)).toBe(false);
  });
});
