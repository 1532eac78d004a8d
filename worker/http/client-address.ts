// Who a rate limit counts: the client's address as Cloudflare sees it. In production every request
// that reaches the Worker carries `CF-Connecting-IP`, set by Cloudflare (a value the client sends is
// replaced), so it cannot be chosen by the client. `X-Forwarded-For` is never read: it can.
//
// An IPv6 client usually holds a whole /64, so it counts as its /64: otherwise every new address
// would be a fresh allowance. A request without the header (only possible when something calls the
// Worker directly, as the tests do) counts as one shared address, so it is limited, not unlimited.

/** The key of every request that carries no `CF-Connecting-IP`. */
export const NO_ADDRESS = 'no-address';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEXTET = /^[0-9a-f]{1,4}$/;

/** The eight hextets of an IPv6 address, or null when it is not one. */
function hextets(text: string): number[] | null {
  let address = text.toLowerCase();
  // An IPv4 tail (::ffff:192.0.2.1) is two hextets written another way.
  const lastColon = address.lastIndexOf(':');
  const ipv4 = address.slice(lastColon + 1);
  if (ipv4.includes('.')) {
    if (!IPV4.test(ipv4)) return null;
    const [a, b, c, d] = ipv4.split('.').map(Number) as [number, number, number, number];
    address = `${address.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = address.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === '') return [];
    const groups = part.split(':');
    return groups.every((g) => HEXTET.test(g)) ? groups.map((g) => parseInt(g, 16)) : null;
  };
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (!head || !rest) return null;
  const given = head.length + rest.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  return [...head, ...new Array<number>(8 - given).fill(0), ...rest];
}

/** The rate-limit key of an address as `CF-Connecting-IP` gives it. */
export function addressKey(header: string | null): string {
  const value = header?.trim() ?? '';
  if (!value) return NO_ADDRESS;
  if (IPV4.test(value)) return value;
  const groups = value.includes(':') ? hextets(value) : null;
  if (groups) {
    // An IPv4 client reached over IPv6 (::ffff:a.b.c.d) is that IPv4 client.
    if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
      return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join('.');
    }
    return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
  }
  // Not an address; Cloudflare never sends such a thing. Bounded, so it cannot grow a key.
  return `other:${value.slice(0, 64)}`;
}

export function clientAddress(request: Request): string {
  return addressKey(request.headers.get('CF-Connecting-IP'));
}
