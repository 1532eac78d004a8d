// How a commit is named in a sentence, the same on the edge, the status page and the relay: its
// short sha (7 hex digits, as `git log --oneline` shows it) and the first line of its message.

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

/** The subject of a commit message (its first line); '' for an empty message. */
export function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? '';
}
