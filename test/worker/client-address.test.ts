// Who a rate limit counts (worker/http/client-address.ts), with generated addresses (fast-check):
// an IPv6 client is its /64 however the address is written, an IPv4 client is itself (also when
// seen over IPv6), and any header at all gives a short key, so junk cannot grow the limiter's keys.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressKey, NO_ADDRESS } from '../../worker/http/client-address.ts';

const hextet = fc.integer({ min: 0, max: 0xffff });
const ipv6 = fc.array(hextet, { minLength: 8, maxLength: 8 });
const ipv4 = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 });

/** The ways one IPv6 address can be written: padded, bare, upper case, and with its first run of zeros as `::`. */
function spellings(groups: number[]): string[] {
  const bare = groups.map((g) => g.toString(16));
  const out = [groups.map((g) => g.toString(16).padStart(4, '0')).join(':'), bare.join(':'), bare.join(':').toUpperCase()];
  const start = groups.indexOf(0);
  if (start >= 0) {
    let end = start;
    while (end < 8 && groups[end] === 0) end += 1;
    out.push(`${bare.slice(0, start).join(':')}::${bare.slice(end).join(':')}`);
  }
  return out;
}

describe('the address a rate limit counts', () => {
  it('is the /64 of an IPv6 client, however the address is written', () => {
    fc.assert(
      fc.property(ipv6, fc.array(hextet, { minLength: 4, maxLength: 4 }), (groups, otherHost) => {
        const sameNetwork = [...groups.slice(0, 4), ...otherHost];
        const keys = new Set([...spellings(groups), ...spellings(sameNetwork)].map(addressKey));
        expect(keys.size).toBe(1);
        expect([...keys][0]).toBe(`${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`);
      }),
    );
  });

  it('tells two /64 networks apart', () => {
    fc.assert(
      fc.property(ipv6, ipv6, (a, b) => {
        fc.pre(a.slice(0, 4).join() !== b.slice(0, 4).join());
        expect(addressKey(spellings(a)[1]!)).not.toBe(addressKey(spellings(b)[1]!));
      }),
    );
  });

  it('is an IPv4 client itself, also when it reaches the edge over IPv6 (::ffff:a.b.c.d)', () => {
    fc.assert(
      fc.property(ipv4, (octets) => {
        const dotted = octets.join('.');
        expect(addressKey(dotted)).toBe(dotted);
        expect(addressKey(`::ffff:${dotted}`)).toBe(dotted);
      }),
    );
  });

  it('is one shared key without a CF-Connecting-IP header, and a short one for any header at all', () => {
    expect(addressKey(null)).toBe(NO_ADDRESS);
    expect(addressKey('  ')).toBe(NO_ADDRESS);
    fc.assert(
      fc.property(fc.string({ maxLength: 4000 }), (header) => {
        const key = addressKey(header);
        expect(key.length).toBeGreaterThan(0);
        expect(key.length).toBeLessThanOrEqual(70);
      }),
      { numRuns: 500 },
    );
    expect(addressKey('1::2::3')).toBe('other:1::2::3');
    expect(addressKey('256.1.1.1')).toBe('other:256.1.1.1');
  });
});
