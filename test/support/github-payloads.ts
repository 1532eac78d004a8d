// Webhook payloads shaped as GitHub really sends them (trimmed of fields Lanyard never reads, but
// keeping the ones whose presence or null-ness matters: head_commit null, deleted, forced, ...).
// Runtime-agnostic: imported by the workerd tests and the Node end-to-end tests alike.

export const ZERO = '0000000000000000000000000000000000000000';

export function fakeSha(seed: string): string {
  let hex = '';
  let h = 2166136261;
  while (hex.length < 40) {
    for (const ch of seed + hex.length) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    hex += h.toString(16).padStart(8, '0');
  }
  return hex.slice(0, 40);
}

let eventClock = Date.UTC(2026, 10, 22, 17) / 1000;
/**
 * When GitHub says an event happened (seconds), a second later for every payload built: GitHub's
 * bodies of two events are never byte-identical (a push carries `repository.pushed_at`, a run its
 * `updated_at`), and the edge takes a byte-identical body for a replay of the first.
 */
function nextEventTime(): number {
  eventClock += 1;
  return eventClock;
}

function repository(fullName: string) {
  const [owner, name] = fullName.split('/');
  return {
    id: 123456789,
    node_id: 'R_kgDOExample',
    name,
    full_name: fullName,
    private: true,
    owner: { login: owner, id: 1, type: 'User' },
    html_url: `https://github.com/${fullName}`,
    default_branch: 'main',
    clone_url: `https://github.com/${fullName}.git`,
  };
}

export interface PushOptions {
  repo?: string;
  ref?: string;
  before?: string;
  after?: string;
  message?: string;
  author?: string;
  created?: boolean;
  deleted?: boolean;
  forced?: boolean;
  headCommit?: boolean;
  /** `repository.pushed_at` (seconds), as GitHub sends it in a push; default: a time no other payload has. */
  pushedAt?: number;
}

export function pushPayload(o: PushOptions = {}) {
  const repo = o.repo ?? 'octo-home/ha-config';
  const after = o.after ?? fakeSha('after');
  const deleted = o.deleted ?? false;
  const commit = {
    id: after,
    tree_id: fakeSha(`tree-${after}`),
    distinct: true,
    message: o.message ?? 'Turn on the porch light at sunset',
    timestamp: '2026-11-22T18:00:00+01:00',
    url: `https://github.com/${repo}/commit/${after}`,
    author: { name: o.author ?? 'Ada Homeowner', email: 'ada@example.com', username: 'ada' },
    committer: { name: o.author ?? 'Ada Homeowner', email: 'ada@example.com', username: 'ada' },
    added: [],
    removed: [],
    modified: ['automations.yaml'],
  };
  const withHead = o.headCommit ?? !deleted;
  return {
    ref: o.ref ?? 'refs/heads/main',
    before: o.before ?? fakeSha('before'),
    after: deleted ? ZERO : after,
    repository: { ...repository(repo), pushed_at: o.pushedAt ?? nextEventTime() },
    pusher: { name: 'ada', email: 'ada@example.com' },
    sender: { login: 'ada', id: 1, type: 'User' },
    created: o.created ?? false,
    deleted,
    forced: o.forced ?? false,
    base_ref: null,
    compare: `https://github.com/${repo}/compare/abc...def`,
    commits: withHead ? [commit] : [],
    head_commit: withHead ? commit : null,
  };
}

export interface WorkflowRunOptions {
  repo?: string;
  name?: string;
  action?: 'requested' | 'in_progress' | 'completed';
  conclusion?: 'success' | 'failure' | 'cancelled' | null;
  headSha?: string;
  headBranch?: string;
  event?: string;
  headRepo?: string;
  /** GitHub's re-runs of a run keep its id and count up its attempt. */
  runAttempt?: number;
}

export function workflowRunPayload(o: WorkflowRunOptions = {}) {
  const repo = o.repo ?? 'octo-home/gated-config';
  const sha = o.headSha ?? fakeSha('ci');
  const action = o.action ?? 'completed';
  return {
    action,
    workflow_run: {
      id: 30433642,
      name: o.name ?? 'Config check',
      path: `.github/workflows/${(o.name ?? 'Config check').toLowerCase().replace(/ /g, '-')}.yml`,
      head_branch: o.headBranch ?? 'main',
      head_sha: sha,
      event: o.event ?? 'push',
      status: action === 'completed' ? 'completed' : action === 'requested' ? 'queued' : 'in_progress',
      conclusion: action === 'completed' ? (o.conclusion === undefined ? 'success' : o.conclusion) : null,
      run_number: 42,
      run_attempt: o.runAttempt ?? 1,
      updated_at: new Date(nextEventTime() * 1000).toISOString(),
      html_url: `https://github.com/${repo}/actions/runs/30433642`,
      head_commit: { id: sha, message: 'Add a package for the garden', author: { name: 'Ada Homeowner', email: 'ada@example.com' } },
      repository: repository(repo),
      head_repository: repository(o.headRepo ?? repo),
    },
    workflow: { id: 161335, name: o.name ?? 'Config check', path: '.github/workflows/config-check.yml' },
    repository: repository(repo),
    sender: { login: 'ada', id: 1, type: 'User' },
  };
}

export function repositoryDispatchPayload(eventType: string, clientPayload: Record<string, unknown>, repo = 'octo-home/dispatch-config') {
  return { action: eventType, branch: 'main', client_payload: clientPayload, repository: repository(repo), sender: { login: 'ada', id: 1, type: 'User' } };
}

export function pingPayload(repo = 'octo-home/ha-config') {
  return {
    zen: 'Keep it logically awesome.',
    hook_id: 109948940,
    hook: { type: 'Repository', id: 109948940, events: ['push', 'workflow_run'], config: { content_type: 'json', insecure_ssl: '0' } },
    repository: repository(repo),
    sender: { login: 'ada', id: 1, type: 'User' },
  };
}

/**
 * A push of many commits, as GitHub sends a large push (it lists up to 2,048 commits): `commits`
 * filled with distinct commits, each touching a few files, until the JSON is at least `bytes` long.
 * The last commit is `head_commit`, as GitHub has it.
 */
export function manyCommitsPushPayload(bytes: number, o: PushOptions = {}) {
  const payload = pushPayload(o);
  const head = payload.head_commit;
  if (!head) throw new Error('a push of many commits needs a head commit');
  const commits: Record<string, unknown>[] = [];
  let size = JSON.stringify(payload).length;
  for (let i = 0; size < bytes; i += 1) {
    const id = fakeSha(`${head.id}-commit-${i}`);
    const commit = {
      ...head,
      id,
      tree_id: fakeSha(`tree-${id}`),
      message: `Tune automation ${i}: dim the hallway ${i % 7} minutes after sunset, and keep the porch light on while the door is open`,
      url: `https://github.com/${payload.repository.full_name}/commit/${id}`,
      added: [`packages/room_${i}.yaml`],
      removed: [],
      modified: ['automations.yaml', `scripts/scene_${i % 50}.yaml`, 'configuration.yaml'],
    };
    commits.push(commit);
    size += JSON.stringify(commit).length + 1;
  }
  return { ...payload, commits: [...commits, head] };
}
