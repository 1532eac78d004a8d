// The email alert's MIME writer: whatever a title holds (line breaks, a forged "Bcc:", any Unicode),
// the message has exactly its nine headers, each line CRLF-terminated printable ASCII, and the
// subject and body decode back to what was meant (RFC 2047 words of whole characters, base64 body).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alertMail, encodeHeaderValue, headerText, isMailAddress, mailDate } from '../../worker/outward/alert-mail.ts';

const HEADERS = ['From', 'To', 'Subject', 'Date', 'Message-ID', 'Auto-Submitted', 'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding'];

function utf8(base64: string): string {
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
}

/** The header block as a reader sees it: unfolded, name → value. */
function parse(raw: string): { headers: Map<string, string[]>; lines: string[]; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split);
  const lines = head.split('\r\n');
  const headers = new Map<string, string[]>();
  let last: string | null = null;
  for (const line of lines) {
    if (line.startsWith(' ')) {
      const values = headers.get(last!)!;
      values[values.length - 1] += line;
      continue;
    }
    const match = /^([A-Za-z-]+): (.*)$/.exec(line);
    if (!match) throw new Error(`not a header line: ${JSON.stringify(line)}`);
    last = match[1]!;
    headers.set(last, [...(headers.get(last) ?? []), match[2]!]);
  }
  return { headers, lines, body: raw.slice(split + 4) };
}

/** RFC 2047: a value of encoded-words (whitespace between them ignored), or plain text. */
function decodeValue(value: string): string {
  const words = /^=\?UTF-8\?B\?[A-Za-z0-9+/=]*\?=( =\?UTF-8\?B\?[A-Za-z0-9+/=]*\?=)*$/.test(value);
  if (!words) return value;
  return [...value.matchAll(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=/g)].map((m) => utf8(m[1]!)).join('');
}

const mail = (subject: string, text = 'Reason: the config is invalid.') =>
  alertMail({ from: 'lanyard@example.org', to: 'owner@example.org', subject, text, messageId: 'alr_01m82e4vg06ns08fd0@example.org', date: new Date(Date.UTC(2026, 11, 3, 2, 28, 58)) });

describe('the alert email', () => {
  it('is a plain, complete message for a plain title', () => {
    expect(mail('home: deploy of 1a2b3c4 failed')).toBe(
      [
        'From: lanyard@example.org',
        'To: owner@example.org',
        'Subject: home: deploy of 1a2b3c4 failed',
        'Date: Thu, 03 Dec 2026 02:28:58 +0000',
        'Message-ID: <alr_01m82e4vg06ns08fd0@example.org>',
        'Auto-Submitted: auto-generated',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: base64',
        '',
        'UmVhc29uOiB0aGUgY29uZmlnIGlzIGludmFsaWQu',
        '',
      ].join('\r\n'),
    );
  });

  it('encodes a non-ASCII subject as RFC 2047 words (a published vector: "Küche")', () => {
    expect(encodeHeaderValue('Küche')).toBe('=?UTF-8?B?S8O8Y2hl?=');
    expect(mailDate(new Date(Date.UTC(2026, 0, 5, 7, 8, 9)))).toBe('Mon, 05 Jan 2026 07:08:09 +0000');
  });

  it('cannot be given another header through the title', () => {
    const { headers } = parse(mail('deploy failed\r\nBcc: attacker@example.net\r\n\r\nforged body'));
    expect([...headers.keys()]).toEqual(HEADERS);
    expect(decodeValue(headers.get('Subject')![0]!)).toBe('deploy failed Bcc: attacker@example.net forged body');
  });

  it('refuses an address that would need quoting or could carry a header', () => {
    for (const bad of ['owner@example.org\r\nBcc: x@example.net', 'Owner <owner@example.org>', 'owner@example', '"a b"@example.org', 'owner@-example.org']) {
      expect(isMailAddress(bad), bad).toBe(false);
      expect(() => alertMail({ from: 'lanyard@example.org', to: bad, subject: 's', text: 't', messageId: 'a@b.c', date: new Date() })).toThrow(/not an address/);
    }
    expect(isMailAddress('owner+alerts@mail.example.org')).toBe(true);
  });

  it('for any title and body: exactly its headers, printable ASCII lines, and the title and body decode back', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 400 }), (title, body) => {
        const raw = mail(title, body);
        const { headers, lines, body: encoded } = parse(raw);
        expect([...headers.keys()]).toEqual(HEADERS);
        for (const name of HEADERS) expect(headers.get(name)).toHaveLength(1);
        for (const line of lines) {
          expect(line).toMatch(/^[\x20-\x7e]*$/);
          expect(line.length).toBeLessThanOrEqual(78);
        }
        // No bare CR or LF anywhere: every line ends in CRLF.
        expect(raw.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
        expect(decodeValue(headers.get('Subject')![0]!)).toBe(headerText(title));
        expect(utf8(encoded.replace(/\r\n/g, ''))).toBe(body.replace(/\r\n?|\n/g, '\r\n'));
      }),
      { numRuns: 300 },
    );
  });
});
