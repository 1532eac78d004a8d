// Shapes of text that cross the wire in more than one message: a full commit sha, and one line of
// free text. One definition each, so the protocol, the drift messages and the API refuse the same.
import { z } from 'zod';

/** A full 40-character lowercase hex commit sha, as git prints it. */
export const CommitSha = z.string().regex(/^[0-9a-f]{40}$/, 'a full 40-character lowercase hex commit sha');

/** Free text a peer shows on one line (a log line, a notification): bounded, no control characters. */
export function oneLine(max: number) {
  return z.string().max(max).regex(/^[^\u0000-\u001f\u007f]*$/, 'one line of text, without control characters');
}
