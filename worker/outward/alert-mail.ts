// The raw RFC 5322 message of an email alert: one text/plain part, UTF-8, base64. A small writer of
// our own rather than a library: an alert is one short plain-text part with four headers we choose,
// and the whole of what could go wrong is encoding (RFC 2047 subjects, a base64 body) and header
// injection (a title with a line break). Both are closed here, by construction: every header value is
// either an address checked against a strict pattern or text that contains no control character and,
// unless it is short printable ASCII, is written as encoded-words. Tested with fast-check
// (test/worker/alert-mail.test.ts) and parsed by a real MIME parser in miniflare's send_email binding.

export interface AlertMail {
  from: string;
  to: string;
  subject: string;
  /** Plain text; any line ending is written as CRLF. */
  text: string;
  /** Without the angle brackets: `alr_…@example.org`. Stable per alert, so a retry is recognised as the same message. */
  messageId: string;
  date: Date;
}

/**
 * An address as the writer accepts it: a dot-atom local part and a domain of letters, digits, dots
 * and hyphens. Stricter than RFC 5322 on purpose: nothing that needs quoting, no space, no control
 * character can reach a header.
 */
const ADDRESS = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** Bytes of UTF-8 per encoded-word: 39 bytes are 52 base64 characters, a 64-character word (RFC 2047 allows 75). */
const WORD_BYTES = 39;
/** A subject of printable ASCII up to this long is written as it is. */
const PLAIN_SUBJECT_MAX = 66;
const BASE64_LINE = 76;

export function isMailAddress(value: string): boolean {
  return value.length <= 254 && ADDRESS.test(value);
}

/** The domain of an address (for the Message-ID). */
export function mailDomain(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/** One line of header text: control characters (CR and LF above all) become spaces, runs of space one. */
export function headerText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/ {2,}/g, ' ').trim();
}

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * A header value from text: as it is when short printable ASCII (and no `=?` that a reader could take
 * for an encoded-word), else RFC 2047 `=?UTF-8?B?…?=` words of whole characters, folded one per line.
 */
export function encodeHeaderValue(text: string): string {
  const clean = headerText(text);
  if (/^[\x20-\x7e]*$/.test(clean) && clean.length <= PLAIN_SUBJECT_MAX && !clean.includes('=?')) return clean;
  const encoder = new TextEncoder();
  const words: string[] = [];
  let chunk = '';
  let chunkBytes = 0;
  for (const char of clean) {
    const size = encoder.encode(char).byteLength;
    if (chunkBytes + size > WORD_BYTES && chunk) {
      words.push(chunk);
      chunk = '';
      chunkBytes = 0;
    }
    chunk += char;
    chunkBytes += size;
  }
  if (chunk) words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${base64(encoder.encode(word))}?=`).join('\r\n ');
}

/** The body as base64 of its UTF-8, CRLF line endings, in lines of 76. */
export function encodeBody(text: string): string {
  const encoded = base64(new TextEncoder().encode(text.replace(/\r\n?|\n/g, '\r\n')));
  const lines: string[] = [];
  for (let i = 0; i < encoded.length; i += BASE64_LINE) lines.push(encoded.slice(i, i + BASE64_LINE));
  return lines.join('\r\n');
}

/** RFC 5322 date-time, in UTC: `Thu, 03 Dec 2026 02:28:58 +0000`. */
export function mailDate(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

/** The whole message, CRLF line endings. Throws on an address it will not write. */
export function alertMail(mail: AlertMail): string {
  for (const address of [mail.from, mail.to]) {
    if (!isMailAddress(address)) throw new Error(`not an address an alert is sent from or to: ${JSON.stringify(address.slice(0, 100))}`);
  }
  const id = headerText(mail.messageId).replace(/[^A-Za-z0-9._@-]/g, '');
  if (!/^[^@]+@[^@]+$/.test(id)) throw new Error('a Message-ID needs a local part and a domain');
  const headers = [
    `From: ${mail.from}`,
    `To: ${mail.to}`,
    `Subject: ${encodeHeaderValue(mail.subject)}`,
    `Date: ${mailDate(mail.date)}`,
    `Message-ID: <${id}>`,
    // RFC 3834: no auto-replies, no vacation answers to a machine's alert.
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
  ];
  return `${headers.join('\r\n')}\r\n\r\n${encodeBody(mail.text)}\r\n`;
}
